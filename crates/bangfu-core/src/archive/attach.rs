//! Attaching a file to a household's exit step, visit or measure, and listing what is attached.
//! The attachment is a replicated row (`attachment`) written through `Store::write`; its file
//! is kept in this copy's `blob` table first, so a row never names a file its writer lacks.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{ArchiveError, blobs};
use crate::model::codes::{ATTACHMENT_KIND, EXIT_STEP};
use crate::model::{Attachment, ExitStep, Household, Measure, Visit};
use crate::store::{Filter, Store, StoreError};

/// The record of the household page a file is attached to.
#[derive(ts_rs::TS, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    ExitStep,
    Visit,
    Measure,
}

impl Target {
    /// The code kept in `attachment.target_table`.
    pub fn code(self) -> &'static str {
        match self {
            Target::ExitStep => "exit_step",
            Target::Visit => "visit",
            Target::Measure => "measure",
        }
    }

    /// What the forms call it.
    pub fn label(self) -> &'static str {
        match self {
            Target::ExitStep => "脱贫退出步骤",
            Target::Visit => "走访记录",
            Target::Measure => "帮扶措施",
        }
    }

    /// From the stored code or the command line's word (`exit-step`).
    pub fn parse(text: &str) -> Result<Target, ArchiveError> {
        match text.trim() {
            "exit_step" | "exit-step" | "脱贫退出步骤" => Ok(Target::ExitStep),
            "visit" | "走访记录" => Ok(Target::Visit),
            "measure" | "帮扶措施" => Ok(Target::Measure),
            other => Err(ArchiveError::UnknownTarget(other.to_owned())),
        }
    }
}

/// A file to attach.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAttachment {
    pub household_id: Uuid,
    pub target: Target,
    pub target_id: Uuid,
    /// A code of `attachment_kind` (签字表 …) or its label.
    pub kind: String,
    #[serde(default)]
    pub caption: String,
    /// The file's name where it was picked, shown in the list (never used to find the file).
    #[serde(default)]
    pub file_name: String,
}

/// What attaching did.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct AttachOutcome {
    pub id: Uuid,
    pub sha256: String,
    /// This copy held the same file already (attached elsewhere): it is kept once.
    pub file_already_held: bool,
}

/// Attaches `bytes` to a record of the household: the file checked (size, kind) and kept once
/// by its hash, then the attachment row written. A refused file writes nothing.
pub fn attach(
    store: &mut Store,
    input: &NewAttachment,
    bytes: &[u8],
) -> Result<AttachOutcome, ArchiveError> {
    store.require(crate::access::Permission::FileHouseholds)?;
    match store.get::<Household>(input.household_id) {
        Ok(_) => {}
        Err(StoreError::NotFound { .. }) => {
            return Err(ArchiveError::HouseholdNotFound {
                id: input.household_id,
            });
        }
        Err(e) => return Err(e.into()),
    }
    let target_household = match input.target {
        Target::ExitStep => get_opt::<ExitStep>(store, input.target_id)?.map(|r| r.household_id),
        Target::Visit => get_opt::<Visit>(store, input.target_id)?.map(|r| r.household_id),
        Target::Measure => get_opt::<Measure>(store, input.target_id)?.map(|r| r.household_id),
    };
    if target_household.flatten() != Some(input.household_id) {
        return Err(ArchiveError::TargetNotFound {
            target: input.target.label(),
            id: input.target_id,
        });
    }
    let kind = kind_code(&input.kind)?;
    let (sha256, media, new) = blobs::check_and_keep(store, bytes)?;
    let row = Attachment {
        id: Uuid::now_v7(),
        household_id: Some(input.household_id),
        target_table: input.target.code().to_owned(),
        target_id: Some(input.target_id),
        kind: kind.to_owned(),
        caption: input.caption.trim().to_owned(),
        file_name: file_name_only(&input.file_name),
        media_type: media.mime().to_owned(),
        size: Some(bytes.len() as i64),
        sha256: sha256.clone(),
    };
    if let Err(e) = store.put(&row) {
        if new {
            // Nothing names the file yet: the refused attachment leaves nothing behind.
            let _ = store.write_local(|conn| {
                conn.execute(
                    "DELETE FROM blob WHERE sha256 = ?1
                       AND NOT EXISTS (SELECT 1 FROM attachment WHERE sha256 = ?1)",
                    [&sha256],
                )?;
                Ok(())
            });
        }
        return Err(e.into());
    }
    Ok(AttachOutcome {
        id: row.id,
        sha256,
        file_already_held: !new,
    })
}

/// Takes an attachment off its record (the row is deleted like any row; the file stays in
/// the copy while any other attachment names it, and costs nothing more).
pub fn remove_attachment(store: &mut Store, id: Uuid) -> Result<(), ArchiveError> {
    store.require(crate::access::Permission::FileHouseholds)?;
    if get_opt::<Attachment>(store, id)?.is_none() {
        return Err(ArchiveError::AttachmentNotFound { id });
    }
    store.write(&[crate::store::Change::Delete {
        table: crate::model::Table::Attachment,
        id,
    }])?;
    Ok(())
}

fn get_opt<E: crate::model::Entity>(store: &Store, id: Uuid) -> Result<Option<E>, StoreError> {
    match store.get::<E>(id) {
        Ok(r) => Ok(Some(r)),
        Err(StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The code of a 材料类别 given as its code or its label.
fn kind_code(text: &str) -> Result<&'static str, ArchiveError> {
    let text = text.trim();
    ATTACHMENT_KIND
        .entries
        .iter()
        .find(|(code, label)| *code == text || *label == text)
        .map(|(code, _)| *code)
        .ok_or_else(|| ArchiveError::UnknownAttachmentKind(text.to_owned()))
}

/// The last part of a path picked in a dialog: the list shows a name, never a folder.
fn file_name_only(name: &str) -> String {
    name.rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .trim()
        .chars()
        .take(120)
        .collect()
}

/// One attachment as the household page and the 档案目录 show it.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct AttachmentEntry {
    pub id: Uuid,
    pub household_id: Uuid,
    /// `exit_step`, `visit` or `measure`.
    pub target_table: String,
    pub target_id: Option<Uuid>,
    /// The record as the page names it: "走访记录 2024-03-01", "村评议公示 2024-05-02".
    pub target_label: String,
    /// 材料类别 as the forms say it.
    pub kind: String,
    pub caption: String,
    pub file_name: String,
    pub media_type: String,
    pub size: u64,
    pub sha256: String,
    /// This copy holds the file (false: the row arrived, the file has not yet).
    pub held: bool,
}

/// Every attachment of a household, by record then as added.
pub fn household_attachments(
    store: &Store,
    household: Uuid,
) -> Result<Vec<AttachmentEntry>, ArchiveError> {
    entries(
        store,
        store.read::<Attachment>(Filter::OfHousehold(household))?,
    )
}

/// Every attachment of the copy.
pub fn all_attachments(store: &Store) -> Result<Vec<AttachmentEntry>, ArchiveError> {
    entries(store, store.read::<Attachment>(Filter::All)?)
}

fn entries(store: &Store, rows: Vec<Attachment>) -> Result<Vec<AttachmentEntry>, ArchiveError> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(household_id) = row.household_id else {
            continue;
        };
        let target_label = match (Target::parse(&row.target_table), row.target_id) {
            (Ok(target), Some(id)) => target_label(store, target, id)?,
            _ => row.target_table.clone(),
        };
        out.push(AttachmentEntry {
            id: row.id,
            household_id,
            target_table: row.target_table.clone(),
            target_id: row.target_id,
            target_label,
            kind: ATTACHMENT_KIND
                .label(&row.kind)
                .unwrap_or(&row.kind)
                .to_owned(),
            caption: row.caption,
            file_name: row.file_name,
            media_type: row.media_type,
            size: row.size.unwrap_or(0).max(0) as u64,
            held: blobs::holds_blob(store.conn(), &row.sha256)?,
            sha256: row.sha256,
        });
    }
    // Uuid v7 ids sort as they were made.
    out.sort_by(|a, b| {
        (&a.target_table, a.target_id, a.id).cmp(&(&b.target_table, b.target_id, b.id))
    });
    Ok(out)
}

fn target_label(store: &Store, target: Target, id: Uuid) -> Result<String, StoreError> {
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| format!(" {d}")).unwrap_or_default();
    Ok(match target {
        Target::Visit => match get_opt::<Visit>(store, id)? {
            Some(v) => format!("走访记录{}", date(v.visit_date)),
            None => "走访记录（已删除）".into(),
        },
        Target::Measure => match get_opt::<Measure>(store, id)? {
            Some(m) => {
                let what: String = m.description.chars().take(20).collect();
                let year = m.year.map(|y| format!(" {y}年")).unwrap_or_default();
                format!("帮扶措施{year} {what}").trim_end().to_owned()
            }
            None => "帮扶措施（已删除）".into(),
        },
        Target::ExitStep => match get_opt::<ExitStep>(store, id)? {
            Some(s) => format!(
                "{}{}",
                EXIT_STEP.label(&s.step).unwrap_or("脱贫退出步骤"),
                date(s.step_date)
            ),
            None => "脱贫退出步骤（已删除）".into(),
        },
    })
}

/// A record of the household page a file can be attached to.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct AttachableRecord {
    pub target: Target,
    pub id: Uuid,
    /// As the list names it: "走访记录 2025-06-01".
    pub label: String,
}

/// The household's live exit steps, visits and measures, each with its label: what the add
/// button and `bangfu archive add` choose from.
pub fn attachable_records(
    store: &Store,
    household: Uuid,
) -> Result<Vec<AttachableRecord>, ArchiveError> {
    let mut out = Vec::new();
    let mut add = |target: Target, ids: Vec<Uuid>| -> Result<(), ArchiveError> {
        for id in ids {
            out.push(AttachableRecord {
                target,
                id,
                label: target_label(store, target, id)?,
            });
        }
        Ok(())
    };
    let of = Filter::OfHousehold(household);
    add(
        Target::ExitStep,
        store
            .read::<ExitStep>(of)?
            .into_iter()
            .map(|r| r.id)
            .collect(),
    )?;
    add(
        Target::Visit,
        store.read::<Visit>(of)?.into_iter().map(|r| r.id).collect(),
    )?;
    add(
        Target::Measure,
        store
            .read::<Measure>(of)?
            .into_iter()
            .map(|r| r.id)
            .collect(),
    )?;
    Ok(out)
}

/// Reads a picked file for the archive: one past the bound is refused from its size alone,
/// before its bytes are read.
pub fn read_picked_file(path: &std::path::Path) -> Result<Vec<u8>, ArchiveError> {
    let read_error = |error| ArchiveError::ReadFile {
        path: path.to_path_buf(),
        error,
    };
    let size = std::fs::metadata(path).map_err(read_error)?.len();
    if size > super::MAX_FILE_BYTES {
        return Err(ArchiveError::TooLarge { size });
    }
    std::fs::read(path).map_err(read_error)
}
