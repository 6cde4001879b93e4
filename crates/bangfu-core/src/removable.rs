//! Removable drives (U 盘) by name, as one-click places to save to and read from.
//!
//! Linux: the mounts of `/proc/mounts` whose disk says `removable` in `/sys/block`, or that
//! udisks put under `/media` or `/run/media`, named by their label from `/dev/disk/by-label`.
//! Windows: drives of type `DRIVE_REMOVABLE` with their volume label (asked of WMI). macOS: `/Volumes` but
//! the system volume. `BANGFU_REMOVABLE_ROOTS` (folders joined like `PATH`) replaces the
//! system's answer: each folder stands for one mounted stick (tests, and a lab without
//! sticks). Nothing here fails: a part of the system that cannot be read lists no drive.

use std::path::{Path, PathBuf};

use serde::Serialize;

/// The variable naming folders that stand in for mounted sticks.
pub const ROOTS_VAR: &str = "BANGFU_REMOVABLE_ROOTS";

/// One removable drive, mounted and ready.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemovableDrive {
    /// The folder files go to: `/media/li/KINGSTON`, `E:\`.
    pub path: PathBuf,
    /// The volume label, when it has one (`KINGSTON`).
    pub label: Option<String>,
    /// What a person reads: `U 盘 KINGSTON (/media/li/KINGSTON)`, `U 盘 (E:)`.
    pub title: String,
}

impl RemovableDrive {
    fn new(path: PathBuf, label: Option<String>) -> Self {
        let label = label.filter(|l| !l.trim().is_empty());
        let place = short_place(&path);
        let title = match &label {
            Some(label) => format!("U 盘 {label} ({place})"),
            None => format!("U 盘 ({place})"),
        };
        RemovableDrive { path, label, title }
    }
}

/// `E:\` reads as `E:`; a mount point reads as itself.
fn short_place(path: &Path) -> String {
    let text = path.display().to_string();
    let trimmed = text.trim_end_matches(['\\', '/']);
    if trimmed.is_empty() {
        text
    } else {
        trimmed.to_owned()
    }
}

/// The removable drives mounted now, by path. `BANGFU_REMOVABLE_ROOTS`, when set, replaces
/// the system's list.
pub fn removable_drives() -> Vec<RemovableDrive> {
    drives_or_stand_ins(std::env::var_os(ROOTS_VAR))
}

/// The stand-in folders `roots` (as `BANGFU_REMOVABLE_ROOTS` holds them) when set, else the
/// system's drives.
pub fn drives_or_stand_ins(roots: Option<std::ffi::OsString>) -> Vec<RemovableDrive> {
    match roots {
        Some(roots) if !roots.is_empty() => drives_from_roots(std::env::split_paths(&roots)),
        _ => system_drives(),
    }
}

/// Each existing folder is one stick, labelled with its own name.
pub fn drives_from_roots(roots: impl IntoIterator<Item = PathBuf>) -> Vec<RemovableDrive> {
    let mut drives: Vec<RemovableDrive> = roots
        .into_iter()
        .filter(|root| root.is_dir())
        .map(|root| {
            let label = root
                .file_name()
                .map(|name| name.to_string_lossy().into_owned());
            RemovableDrive::new(root, label)
        })
        .collect();
    drives.sort_by(|a, b| a.path.cmp(&b.path));
    drives.dedup_by(|a, b| a.path == b.path);
    drives
}

/// The system's paths for the Linux listing, injectable for tests.
#[derive(Debug, Clone)]
pub struct LinuxSources {
    pub mounts: PathBuf,
    pub sys_block: PathBuf,
    pub by_label: PathBuf,
}

impl Default for LinuxSources {
    fn default() -> Self {
        LinuxSources {
            mounts: PathBuf::from("/proc/mounts"),
            sys_block: PathBuf::from("/sys/block"),
            by_label: PathBuf::from("/dev/disk/by-label"),
        }
    }
}

#[cfg(target_os = "linux")]
fn system_drives() -> Vec<RemovableDrive> {
    linux_drives(&LinuxSources::default())
}

#[cfg(target_os = "macos")]
fn system_drives() -> Vec<RemovableDrive> {
    mac_drives(Path::new("/Volumes"))
}

#[cfg(windows)]
fn system_drives() -> Vec<RemovableDrive> {
    windows::drives()
}

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
fn system_drives() -> Vec<RemovableDrive> {
    Vec::new()
}

/// Removable mounts of a Linux system, read from `sources`.
pub fn linux_drives(sources: &LinuxSources) -> Vec<RemovableDrive> {
    linux_drives_with(sources, |device| device.starts_with("/dev/"))
}

/// [`linux_drives`] with the test of which mounted sources are devices (a test's fake `/dev`
/// lives in a temporary folder).
fn linux_drives_with(
    sources: &LinuxSources,
    is_device: impl Fn(&Path) -> bool,
) -> Vec<RemovableDrive> {
    let Ok(mounts) = std::fs::read_to_string(&sources.mounts) else {
        return Vec::new();
    };
    let labels = labels_by_device(&sources.by_label);
    let mut drives = Vec::new();
    for line in mounts.lines() {
        let mut fields = line.split_whitespace();
        let (Some(device), Some(mount)) = (fields.next(), fields.next()) else {
            continue;
        };
        if !is_device(Path::new(device)) {
            continue;
        }
        let mount = PathBuf::from(unescape_mount(mount));
        let under_media = mount.starts_with("/media") || mount.starts_with("/run/media");
        let device_path = canonical(Path::new(device));
        let removable = device_path
            .file_name()
            .and_then(|name| disk_of(&sources.sys_block, &name.to_string_lossy()))
            .is_some_and(|disk| flag_set(&sources.sys_block.join(disk).join("removable")));
        if !(removable || under_media) || mount == Path::new("/") {
            continue;
        }
        let label = labels
            .iter()
            .find(|(dev, _)| *dev == device_path)
            .map(|(_, label)| label.clone())
            .or_else(|| {
                mount
                    .file_name()
                    .map(|name| name.to_string_lossy().into_owned())
            });
        drives.push(RemovableDrive::new(mount, label));
    }
    drives.sort_by(|a, b| a.path.cmp(&b.path));
    drives.dedup_by(|a, b| a.path == b.path);
    drives
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned())
}

/// `/dev/disk/by-label` entries as (device they point to, decoded label).
fn labels_by_device(by_label: &Path) -> Vec<(PathBuf, String)> {
    let Ok(entries) = std::fs::read_dir(by_label) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .map(|entry| {
            let label = unescape_label(&entry.file_name().to_string_lossy());
            (canonical(&entry.path()), label)
        })
        .collect()
}

/// The whole disk a partition is on, as named in `/sys/block` (`sdb1` → `sdb`,
/// `mmcblk0p1` → `mmcblk0`, `sdb` → `sdb`).
fn disk_of(sys_block: &Path, partition: &str) -> Option<String> {
    let entries = std::fs::read_dir(sys_block).ok()?;
    entries
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|disk| {
            partition == disk
                || partition.strip_prefix(disk.as_str()).is_some_and(|rest| {
                    let digits = rest.strip_prefix('p').unwrap_or(rest);
                    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
                })
        })
        .max_by_key(String::len)
}

fn flag_set(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|text| text.trim() == "1")
}

/// `/proc/mounts` writes space, tab, newline and backslash as octal escapes (`\040`).
fn unescape_mount(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| bytes[i] == b'\\' && d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match octal {
            Some(d) => {
                let value = d.iter().fold(0u32, |acc, b| acc * 8 + u32::from(b - b'0'));
                out.push(u8::try_from(value).unwrap_or(b'?'));
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// udev writes unsafe bytes of a label as `\xHH` (`MY\x20STICK`); Chinese labels come as
/// their UTF-8 bytes this way.
fn unescape_label(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i..i + 4)
            .filter(|d| d[0] == b'\\' && d[1] == b'x')
            .and_then(|d| std::str::from_utf8(&d[2..4]).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(byte) => {
                out.push(byte);
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The volumes under `/Volumes` but the system's own (a link to `/`).
pub fn mac_drives(volumes: &Path) -> Vec<RemovableDrive> {
    let Ok(entries) = std::fs::read_dir(volumes) else {
        return Vec::new();
    };
    let mut drives: Vec<RemovableDrive> = entries
        .filter_map(Result::ok)
        .filter(|entry| {
            entry
                .file_type()
                .is_ok_and(|t| t.is_dir() && !t.is_symlink())
        })
        .map(|entry| {
            let label = entry.file_name().to_string_lossy().into_owned();
            RemovableDrive::new(entry.path(), Some(label))
        })
        .collect();
    drives.sort_by(|a, b| a.path.cmp(&b.path));
    drives
}

/// Parses what [`WINDOWS_QUERY`] prints: one `E:<TAB>LABEL` line per removable drive.
pub fn parse_windows_drives(text: &str) -> Vec<RemovableDrive> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim_end_matches('\r');
            let (device, label) = line.split_once('\t').unwrap_or((line, ""));
            let device = device.trim();
            let letter = device.strip_suffix(':')?;
            if letter.len() != 1 || !letter.bytes().all(|b| b.is_ascii_alphabetic()) {
                return None;
            }
            let label = label.trim();
            Some(RemovableDrive::new(
                PathBuf::from(format!("{device}\\")),
                (!label.is_empty()).then(|| label.to_owned()),
            ))
        })
        .collect()
}

/// The drives whose `GetDriveTypeW` is `DRIVE_REMOVABLE` (WMI's `DriveType = 2`) and that hold
/// a medium, with their volume labels. Asked through PowerShell because the workspace
/// forbids `unsafe` (so no direct Win32 call).
pub const WINDOWS_QUERY: &str = "[Console]::OutputEncoding=[Text.Encoding]::UTF8; \
Get-CimInstance Win32_LogicalDisk -Filter 'DriveType=2' | Where-Object { $_.Size } | \
ForEach-Object { \"$($_.DeviceID)`t$($_.VolumeName)\" }";

#[cfg(windows)]
mod windows {
    //! PowerShell's answer to [`super::WINDOWS_QUERY`], without a console window flashing.
    use std::os::windows::process::CommandExt;
    use std::process::Command;

    /// `CREATE_NO_WINDOW` of the process creation flags.
    const CREATE_NO_WINDOW: u32 = 0x0800_0000;

    pub(super) fn drives() -> Vec<super::RemovableDrive> {
        let output = Command::new("powershell")
            .args([
                "-NoProfile",
                "-NonInteractive",
                "-Command",
                super::WINDOWS_QUERY,
            ])
            .creation_flags(CREATE_NO_WINDOW)
            .output();
        match output {
            Ok(out) if out.status.success() => {
                super::parse_windows_drives(&String::from_utf8_lossy(&out.stdout))
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn folders_standing_in_for_sticks_are_listed_by_name_and_missing_ones_left_out() {
        let root = tempfile::tempdir().unwrap();
        let stick = root.path().join("KINGSTON");
        std::fs::create_dir(&stick).unwrap();
        let pulled = root.path().join("PULLED");
        let drives = drives_from_roots([pulled, stick.clone(), stick.clone()]);
        assert_eq!(drives.len(), 1, "{drives:?}");
        assert_eq!(drives[0].path, stick);
        assert_eq!(drives[0].label.as_deref(), Some("KINGSTON"));
        assert_eq!(
            drives[0].title,
            format!("U 盘 KINGSTON ({})", stick.display())
        );
    }

    #[test]
    fn linux_lists_removable_disks_and_media_mounts_with_their_labels_but_not_the_system_disk() {
        let fake = tempfile::tempdir().unwrap();
        let sys_block = fake.path().join("sys/block");
        write(&sys_block.join("sda/removable"), "0\n");
        write(&sys_block.join("sdb/removable"), "1\n");
        write(&sys_block.join("mmcblk0/removable"), "0\n");
        let dev = fake.path().join("dev");
        write(&dev.join("sdb1"), "");
        write(&dev.join("sda1"), "");
        write(&dev.join("mmcblk0p1"), "");
        let by_label = fake.path().join("by-label");
        std::fs::create_dir_all(&by_label).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(dev.join("sdb1"), by_label.join("MY\\x20STICK")).unwrap();
        let sdb1 = dev.join("sdb1");
        let sda1 = dev.join("sda1");
        let card = dev.join("mmcblk0p1");
        let mounts = fake.path().join("mounts");
        // The system disk mounted at / and /home, the removable disk's partition anywhere,
        // a card reader that is not removable but mounted by udisks under /media.
        let text = format!(
            "sysfs /sys sysfs rw 0 0\n\
             {sda1} / ext4 rw 0 0\n\
             {sda1} /home ext4 rw 0 0\n\
             {sdb1} /mnt/stick\\040one vfat rw 0 0\n\
             {card} /media/li/CARD vfat rw 0 0\n",
            sda1 = sda1.display(),
            sdb1 = sdb1.display(),
            card = card.display(),
        );
        write(&mounts, &text);
        let sources = LinuxSources {
            mounts,
            sys_block,
            by_label,
        };
        let drives = linux_drives_with(&sources, |device| device.starts_with(fake.path()));
        let titles: Vec<&str> = drives.iter().map(|d| d.title.as_str()).collect();
        assert_eq!(
            titles,
            [
                "U 盘 CARD (/media/li/CARD)",
                "U 盘 MY STICK (/mnt/stick one)"
            ],
            "{drives:?}"
        );
    }

    #[test]
    fn the_roots_variable_replaces_the_system_listing() {
        let root = tempfile::tempdir().unwrap();
        let (a, b) = (root.path().join("A"), root.path().join("乡镇U盘"));
        std::fs::create_dir(&a).unwrap();
        std::fs::create_dir(&b).unwrap();
        let joined = std::env::join_paths([&b, &a]).unwrap();
        let paths: Vec<PathBuf> = drives_or_stand_ins(Some(joined))
            .into_iter()
            .map(|d| d.path)
            .collect();
        assert_eq!(paths, [a, b]);
    }

    #[test]
    fn windows_drives_are_read_with_their_labels() {
        let drives = parse_windows_drives("E:\tKINGSTON\r\nF:\t\r\nnot a drive\r\n");
        let titles: Vec<&str> = drives.iter().map(|d| d.title.as_str()).collect();
        assert_eq!(titles, ["U 盘 KINGSTON (E:)", "U 盘 (F:)"]);
        assert_eq!(drives[0].path, PathBuf::from("E:\\"));
    }

    #[test]
    fn partitions_are_matched_to_their_disk() {
        let fake = tempfile::tempdir().unwrap();
        for disk in ["sd", "sdb", "sdbb", "mmcblk0", "nvme0n1"] {
            std::fs::create_dir_all(fake.path().join(disk)).unwrap();
        }
        assert_eq!(disk_of(fake.path(), "sdb1").as_deref(), Some("sdb"));
        assert_eq!(disk_of(fake.path(), "sdb").as_deref(), Some("sdb"));
        assert_eq!(disk_of(fake.path(), "sdbb2").as_deref(), Some("sdbb"));
        assert_eq!(
            disk_of(fake.path(), "mmcblk0p1").as_deref(),
            Some("mmcblk0")
        );
        assert_eq!(
            disk_of(fake.path(), "nvme0n1p3").as_deref(),
            Some("nvme0n1")
        );
        assert_eq!(disk_of(fake.path(), "sdc1"), None);
    }

    #[test]
    fn escapes_of_mounts_and_labels_are_decoded() {
        assert_eq!(
            unescape_mount("/media/li/A\\040B\\134C"),
            "/media/li/A B\\C"
        );
        assert_eq!(unescape_mount("/media/\\04"), "/media/\\04");
        assert_eq!(
            unescape_label("\\xe4\\xb9\\xa1\\xe9\\x95\\x87\\x20U"),
            "乡镇 U"
        );
    }

    #[test]
    fn mac_lists_volumes_but_the_system_link() {
        let fake = tempfile::tempdir().unwrap();
        std::fs::create_dir(fake.path().join("KINGSTON")).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink("/", fake.path().join("Macintosh HD")).unwrap();
        let drives = mac_drives(fake.path());
        let labels: Vec<_> = drives.iter().filter_map(|d| d.label.as_deref()).collect();
        assert_eq!(labels, ["KINGSTON"]);
    }
}
