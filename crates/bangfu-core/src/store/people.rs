//! The people of this laptop (issue 15): who may sign in, the signed-in actor the core checks
//! permissions against, the audit log of full-ID exports, and who wrote each local write batch.
//!
//! All of it is local (migration 0011): people, PINs and the audit log never leave the laptop,
//! and authorship is recorded beside this copy's own batches only. A file with no person
//! behaves as before people existed: every permission is granted and nobody signs in, so the
//! CLI, scripts and tests keep working until a team adds its people.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::Serialize;
use uuid::Uuid;

use super::{Store, StoreError};
use crate::access::{
    AccessError, Actor, PERSON_NAME_MAX_CHARS, PIN_DIGITS, PIN_LOCKOUT_MAX_MINUTES,
    PIN_LOCKOUT_MINUTES, PIN_TRIES, Permission, Role,
};
use crate::model::Table;
use crate::sync::Hlc;

/// A person of this laptop as 设置 → 人员 lists them (never their PIN).
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub role_label: String,
    pub created_ms: i64,
    pub disabled: bool,
}

/// One row of the audit log.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub at_ms: i64,
    pub person_name: String,
    /// A stable tag (`ledger_full_ids`).
    pub action: String,
    /// What was done, as people read it (the ledger's title).
    pub what: String,
    /// How many people's full numbers it carried.
    pub people: i64,
}

/// One value a field had, as this copy's op log holds it.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    /// The value as stored (a code for a coded field), `None` for a cleared field.
    pub value: Option<String>,
    pub device: String,
    /// Who was signed in when this copy wrote it; `None` for ops of other devices (authorship
    /// does not travel yet) and for writes made on a file without people.
    pub person: Option<String>,
    pub at_ms: u64,
}

/// The audit log's tag of a ledger exported with full 证件号码.
pub const AUDIT_LEDGER_FULL_IDS: &str = "ledger_full_ids";

/// Argon2id for PINs: the default cost (19 MiB, 2 passes). A PIN has few digits, so its
/// strength is the bounded retries, not the hash; the hash keeps the PIN off the disk.
fn pin_hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

fn check_pin(pin: &str) -> Result<(), AccessError> {
    let ok = PIN_DIGITS.contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit());
    if ok { Ok(()) } else { Err(AccessError::BadPin) }
}

fn hash_pin(pin: &str) -> Result<String, AccessError> {
    let salt = SaltString::generate(&mut OsRng);
    pin_hasher()
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        // Hashing a checked PIN with a fresh salt does not fail; if it did, no PIN is stored.
        .map_err(|_| AccessError::BadPin)
}

fn pin_matches(hash: &str, pin: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            pin_hasher()
                .verify_password(pin.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

fn person_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Person, String, i64, i64)> {
    let code: String = r.get(2)?;
    // A role code this version does not know reads as 只读: it grants nothing by mistake.
    let role = Role::from_code(&code).unwrap_or(Role::ReadOnly);
    Ok((
        Person {
            id: r.get(0)?,
            name: r.get(1)?,
            role,
            role_label: role.label().to_owned(),
            created_ms: r.get(3)?,
            disabled: r.get::<_, i64>(4)? != 0,
        },
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

const PERSON_COLUMNS: &str =
    "id, name, role, created_ms, disabled, pin_hash, failed_tries, locked_until_ms";

/// Something the signed-in person may not do, with the refusal the core gives for it.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    pub permission: Permission,
    /// The core's Chinese refusal (`AccessError::message_zh`).
    pub message: String,
}

impl Store {
    /// The people of this laptop, in the order they were added.
    pub fn people(&self) -> Result<Vec<Person>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {PERSON_COLUMNS} FROM person ORDER BY id"))?;
        let people = stmt
            .query_map([], person_row)?
            .map(|r| r.map(|(p, ..)| p))
            .collect::<Result<_, _>>()?;
        Ok(people)
    }

    /// Whether this file has people: then a person signs in and permissions are checked.
    pub fn people_defined(&self) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT EXISTS (SELECT 1 FROM person)", [], |r| r.get(0))?)
    }

    /// Refuses to give (or reset the PIN of) a role that may do something the signed-in
    /// person's role may not: a 第一书记/队长 could otherwise add a 乡镇管理员 with a PIN of their
    /// choosing and confirm devices, and a 乡镇管理员 add a 第一书记 and record exit steps.
    /// The laptop's first person (who set its people up, and holds the passphrase anyway) may
    /// add any role: a station or team that needs both kinds of manager is set up by them.
    fn may_grant(&self, role: Role) -> Result<(), StoreError> {
        let Some(actor) = self.actor.as_ref() else {
            return Ok(());
        };
        let first: Option<i64> = self
            .conn
            .query_row("SELECT min(id) FROM person", [], |r| r.get(0))?;
        if first == Some(actor.person_id) {
            return Ok(());
        }
        if Permission::ALL
            .iter()
            .any(|p| role.allows(*p) && !actor.role.allows(*p))
        {
            return Err(AccessError::BeyondOwnRole {
                actor: actor.role,
                role,
            }
            .into());
        }
        Ok(())
    }

    /// The person signed in on this store, if any.
    pub fn actor(&self) -> Option<&Actor> {
        self.actor.as_ref()
    }

    /// Hands the actor the writing store signed in to a second handle on the same file (the
    /// app's read-only handle for long reads), so its reads are masked and audited alike.
    pub fn set_actor(&mut self, actor: Option<Actor>) {
        self.actor = actor;
    }

    /// Refuses `permission` unless the file has no people, or the signed-in person's role
    /// allows it (see [`crate::access::PERMISSIONS`]).
    pub fn require(&self, permission: Permission) -> Result<(), StoreError> {
        if !self.people_defined()? {
            return Ok(());
        }
        let role = self.actor.as_ref().map(|a| a.role);
        match role {
            Some(role) if role.allows(permission) => Ok(()),
            None => Err(AccessError::NotSignedIn.into()),
            role => Err(AccessError::NotAllowed {
                action: permission,
                roles: permission.roles(),
                role,
            }
            .into()),
        }
    }

    /// What the signed-in person may not do, each with the core's refusal as the window shows
    /// it (只有队员、第一书记、队长或乡镇管理员可以录入或修改户的信息。…): the window disables
    /// a button whose act the core would refuse and says why, before anyone tries. Empty on
    /// a file without people.
    pub fn refusals(&self) -> Result<Vec<Refusal>, StoreError> {
        let mut out = Vec::new();
        for permission in Permission::ALL {
            match self.require(permission) {
                Ok(()) => {}
                Err(StoreError::Access(refusal)) => out.push(Refusal {
                    permission,
                    message: crate::error::UserFacing::message_zh(&refusal),
                }),
                Err(other) => return Err(other),
            }
        }
        Ok(out)
    }

    /// Whether lists, cards and ledgers show full 证件号码 to whoever is signed in.
    pub fn sees_full_ids(&self) -> Result<bool, StoreError> {
        match self.require(Permission::SeeFullIds) {
            Ok(()) => Ok(true),
            Err(StoreError::Access(_)) => Ok(false),
            Err(other) => Err(other),
        }
    }

    /// Whether the household page (and a field's 修改记录 on it) shows full 证件号码. Those who
    /// file households type and check full numbers at the door, so the page keeps them for
    /// every role that files; only a role that neither files nor sees full numbers (只读) reads
    /// the page masked, and it cannot save it.
    pub fn page_shows_full_ids(&self) -> Result<bool, StoreError> {
        if self.require(Permission::FileHouseholds).is_ok() {
            return Ok(true);
        }
        self.sees_full_ids()
    }

    /// A 证件号码 as the signed-in person may see it ([`crate::access::mask_id_number`]).
    pub fn shown_id_number(&self, id: &str, full: bool) -> String {
        if full {
            id.to_owned()
        } else {
            crate::access::mask_id_number(id)
        }
    }

    /// Adds a person. The first person of a file needs no sign-in but must be able to manage
    /// people (someone has to add the rest); after that only [`Permission::ManagePeople`].
    pub fn add_person(&mut self, name: &str, role: Role, pin: &str) -> Result<Person, StoreError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > PERSON_NAME_MAX_CHARS {
            return Err(AccessError::BadName(name.to_owned()).into());
        }
        check_pin(pin)?;
        let first = !self.people_defined()?;
        if first && !role.allows(Permission::ManagePeople) {
            return Err(AccessError::FirstPersonManages.into());
        }
        if !first {
            self.require(Permission::ManagePeople)?;
            self.may_grant(role)?;
        }
        let hash = hash_pin(pin)?;
        let now = self.wall_ms() as i64;
        let name = name.to_owned();
        let id = self.write_local(|conn| {
            let taken: bool = conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM person WHERE name = ?1)",
                [&name],
                |r| r.get(0),
            )?;
            if taken {
                return Err(AccessError::NameTaken(name.clone()).into());
            }
            conn.execute(
                "INSERT INTO person (name, role, pin_hash, created_ms) VALUES (?1, ?2, ?3, ?4)",
                params![name, role.code(), hash, now],
            )?;
            Ok(conn.last_insert_rowid())
        })?;
        Ok(Person {
            id,
            name,
            role,
            role_label: role.label().to_owned(),
            created_ms: now,
            disabled: false,
        })
    }

    /// Disables a person (they can no longer sign in; their history stays). Refused when it
    /// would leave nobody enabled who can manage people. Disabling the signed-in person signs
    /// them out.
    pub fn disable_person(&mut self, id: i64) -> Result<(), StoreError> {
        self.require(Permission::ManagePeople)?;
        let people = self.people()?;
        let Some(person) = people.iter().find(|p| p.id == id) else {
            return Err(AccessError::UnknownPerson(id.to_string()).into());
        };
        let managers_left = people
            .iter()
            .filter(|p| p.id != id && !p.disabled && p.role.allows(Permission::ManagePeople))
            .count();
        if managers_left == 0 {
            return Err(AccessError::LastManager(person.name.clone()).into());
        }
        self.write_local(|conn| {
            conn.execute("UPDATE person SET disabled = 1 WHERE id = ?1", [id])?;
            Ok(())
        })?;
        if self.actor.as_ref().is_some_and(|a| a.person_id == id) {
            self.actor = None;
        }
        Ok(())
    }

    /// Sets a new PIN for a person who forgot theirs (by one who manages people); the count of
    /// wrong PINs and any wait are cleared with it.
    pub fn reset_pin(&mut self, id: i64, pin: &str) -> Result<(), StoreError> {
        self.require(Permission::ManagePeople)?;
        // Resetting another's PIN is signing in as them: no more than one's own role may do.
        let role: Option<String> = self
            .conn
            .query_row("SELECT role FROM person WHERE id = ?1", [id], |r| r.get(0))
            .optional()?;
        let role = role
            .and_then(|code| Role::from_code(&code))
            .ok_or_else(|| AccessError::UnknownPerson(id.to_string()))?;
        self.may_grant(role)?;
        check_pin(pin)?;
        let hash = hash_pin(pin)?;
        let changed = self.write_local(|conn| {
            Ok(conn.execute(
                "UPDATE person SET pin_hash = ?2, failed_tries = 0, locked_until_ms = 0
                 WHERE id = ?1",
                params![id, hash],
            )?)
        })?;
        if changed == 0 {
            return Err(AccessError::UnknownPerson(id.to_string()).into());
        }
        Ok(())
    }

    /// Signs a person in by name and PIN. A wrong PIN is counted; after [`PIN_TRIES`] wrong
    /// PINs in a row the person waits [`PIN_LOCKOUT_MINUTES`] (kept in the file, so restarting
    /// the app does not reset it). A right PIN clears the count.
    pub fn sign_in(&mut self, name: &str, pin: &str) -> Result<Actor, StoreError> {
        let name = name.trim().to_owned();
        let found = self
            .conn
            .query_row(
                &format!("SELECT {PERSON_COLUMNS} FROM person WHERE name = ?1"),
                [&name],
                person_row,
            )
            .optional()?;
        let Some((person, hash, failed, locked_until)) = found else {
            return Err(AccessError::UnknownPerson(name).into());
        };
        if person.disabled {
            return Err(AccessError::Disabled(name).into());
        }
        let now = self.wall_ms() as i64;
        if locked_until > now {
            let minutes = ((locked_until - now) as u64).div_ceil(60_000);
            return Err(AccessError::TooManyTries { name, minutes }.into());
        }
        if !pin_matches(&hash, pin) {
            // The count runs on across lockouts until a right PIN: every PIN_TRIES-th wrong
            // one locks the person out, each time twice as long (5 minutes, 10, 20, … at most
            // a day), so guessing a 4-digit PIN at the keyboard takes years, not days.
            let failed = failed + 1;
            let tries = i64::from(PIN_TRIES);
            let lockout_minutes = (failed % tries == 0).then(|| {
                let lockouts = (failed / tries).clamp(1, 16) as u32;
                (PIN_LOCKOUT_MINUTES << (lockouts - 1)).min(PIN_LOCKOUT_MAX_MINUTES)
            });
            let locked_until = lockout_minutes.map_or(0, |m| now + (m * 60_000) as i64);
            self.write_local(|conn| {
                conn.execute(
                    "UPDATE person SET failed_tries = ?2, locked_until_ms = ?3 WHERE id = ?1",
                    params![person.id, failed, locked_until],
                )?;
                Ok(())
            })?;
            return Err(match lockout_minutes {
                Some(minutes) => AccessError::TooManyTries { name, minutes },
                None => AccessError::WrongPin {
                    name,
                    tries_left: PIN_TRIES - (failed % tries) as u32,
                },
            }
            .into());
        }
        if failed > 0 || locked_until > 0 {
            self.write_local(|conn| {
                conn.execute(
                    "UPDATE person SET failed_tries = 0, locked_until_ms = 0 WHERE id = ?1",
                    [person.id],
                )?;
                Ok(())
            })?;
        }
        let actor = Actor {
            person_id: person.id,
            name: person.name,
            role: person.role,
        };
        self.actor = Some(actor.clone());
        Ok(actor)
    }

    pub fn sign_out(&mut self) {
        self.actor = None;
    }

    /// Records in the audit log that the signed-in person did `what` with the full numbers of
    /// `people` people. On the app's read-only handle (ledgers are exported from it) the row is
    /// written through a short connection of its own, under the writer lock.
    pub fn record_audit(&self, action: &str, what: &str, people: u64) -> Result<(), StoreError> {
        let insert = |conn: &Connection| {
            insert_audit(
                conn,
                self.actor.as_ref(),
                self.wall_ms(),
                action,
                what,
                people,
            )
        };
        let _writer = self.writer_lock()?;
        if self.read_only {
            let conn = super::connect(
                &self.path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                self.key.as_ref(),
            )?;
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            insert(&conn)
        } else {
            insert(&self.conn)
        }
    }

    /// The audit log, newest first.
    pub fn audit_log(&self) -> Result<Vec<AuditEntry>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT at_ms, person_name, action, what, people FROM audit_log ORDER BY id DESC",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok(AuditEntry {
                    at_ms: r.get(0)?,
                    person_name: r.get(1)?,
                    action: r.get(2)?,
                    what: r.get(3)?,
                    people: r.get(4)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Every value this copy holds for one field of one row, oldest first, with the device
    /// that wrote it, when, and who was signed in on it (this copy's own people, or the name
    /// the writing device signed with its batch). A 证件号码's
    /// past values are masked as the page masks its current one.
    pub fn field_history(
        &self,
        table: Table,
        row: Uuid,
        field: &str,
    ) -> Result<Vec<FieldChange>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT CAST(o.val AS TEXT),
                    CASE WHEN k.confirmed = 1 AND k.name <> '' THEN k.name
                         ELSE coalesce(nullif(d.name, ''), k.name, '') END,
                    coalesce(p.name, b.author), o.hlc
             FROM op o
             JOIN field_name f ON f.idx = o.field AND f.tbl = o.tbl AND f.name = ?3
             JOIN device d ON d.idx = o.origin
             LEFT JOIN device_key k ON k.device = d.id
             LEFT JOIN op_author a ON a.origin = o.origin
                  AND a.first_seq = (SELECT max(first_seq) FROM op_author
                                     WHERE origin = o.origin AND first_seq <= o.seq)
                  AND o.seq <= a.last_seq
             LEFT JOIN person p ON p.id = a.person
             LEFT JOIN op_batch b ON b.origin = o.origin
                  AND b.first_seq = (SELECT max(first_seq) FROM op_batch
                                     WHERE origin = o.origin AND first_seq <= o.seq)
                  AND o.seq <= b.last_seq
             WHERE o.tbl = ?1 AND o.row = ?2
             ORDER BY o.hlc, o.origin",
        )?;
        let rows = stmt
            .query_map(
                params![table.code(), row.as_bytes().as_slice(), field],
                |r| {
                    Ok(FieldChange {
                        value: r.get(0)?,
                        device: r.get(1)?,
                        person: r.get(2)?,
                        at_ms: Hlc::from_i64(r.get(3)?).millis(),
                    })
                },
            )?
            .collect::<Result<Vec<FieldChange>, _>>()?;
        if crate::access::is_masked_field(field) && !self.page_shows_full_ids()? {
            return Ok(rows
                .into_iter()
                .map(|c| FieldChange {
                    value: c.value.map(|v| crate::access::mask_id_number(&v)),
                    ..c
                })
                .collect());
        }
        Ok(rows)
    }
}

/// Writes one audit row for `actor` through `conn`: by [`Store::record_audit`], or inside a
/// transaction the caller holds with the change it records.
pub(crate) fn insert_audit(
    conn: &Connection,
    actor: Option<&Actor>,
    wall_ms: u64,
    action: &str,
    what: &str,
    people: u64,
) -> Result<(), StoreError> {
    let (person, name) = match actor {
        Some(a) => (Some(a.person_id), a.name.as_str()),
        None => (None, ""),
    };
    conn.execute(
        "INSERT INTO audit_log (at_ms, person, person_name, action, what, people)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![wall_ms as i64, person, name, action, what, people as i64],
    )?;
    Ok(())
}

/// Records who was signed in for this copy's write batch `first..=last` (the write path's
/// hook, beside its signature). Nothing is recorded when nobody is signed in.
pub(super) fn record_author(
    conn: &Connection,
    origin: i64,
    actor: Option<&Actor>,
    first: i64,
    last: i64,
) -> Result<(), StoreError> {
    let Some(actor) = actor else { return Ok(()) };
    if last < first {
        return Ok(());
    }
    conn.execute(
        "INSERT OR REPLACE INTO op_author (origin, first_seq, last_seq, person)
         VALUES (?1, ?2, ?3, ?4)",
        params![origin, first, last, actor.person_id],
    )?;
    Ok(())
}
