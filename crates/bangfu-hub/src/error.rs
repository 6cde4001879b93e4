//! What enrolment and sync through the hub can meet, as the desktop shell and the `bangfu`
//! command show it: a stable kind and a Chinese message that says what to do next.

use bangfu_core::UserFacing;
use bangfu_core::store::StoreError;

use crate::client::SyncReport;

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("this data file is not enrolled with a hub")]
    NotEnrolled,
    #[error("hub address must start with http:// or https://: {0}")]
    BadUrl(String),
    #[error("hub address {0} is plain http:// to another computer: only https:// is allowed there")]
    InsecureUrl(String),
    #[error("cannot reach the hub: {0}")]
    Unreachable(String),
    #[error("token refused (missing or wrong)")]
    Unauthorized,
    #[error("this device's token was revoked by the county admin")]
    Revoked,
    #[error("enrolment code refused (wrong)")]
    BadCode { tries_left: Option<i64> },
    #[error("enrolment code already used")]
    CodeUsed,
    #[error("enrolment code expired")]
    CodeExpired,
    #[error("enrolment code void after too many wrong tries")]
    CodeLocked,
    #[error("too many enrolment attempts from this address; retry in {retry_after_s} s")]
    TooManyAttempts { retry_after_s: u64 },
    #[error("push refused: {0}")]
    OutsideScope(String),
    #[error("push failed ({error}); the pull went on")]
    PushFailed {
        error: Box<HubError>,
        report: Box<SyncReport>,
    },
    #[error("the hub held {} ops aside", report.held)]
    Held { report: Box<SyncReport> },
    #[error("this device's ops are pushed by another enrolled device")]
    OriginTaken,
    #[error("unexpected hub response {status}: {detail}")]
    BadResponse { status: u16, detail: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a page from the hub does not match its writers' signatures: {0}")]
    Forged(String),
    #[error("the hub brings another key for device {name} than the one confirmed here")]
    DeviceKeyDiffers {
        name: String,
        /// 安全码 of the key confirmed here.
        here: String,
        /// 安全码 of the key the hub brings.
        hub: String,
    },
    #[error("the hub refused this device's push: its signatures do not hold: {0}")]
    PushSignatureRefused(String),
    #[error("the hub offers no release")]
    NoRelease,
    #[error(transparent)]
    Update(#[from] bangfu_core::update::UpdateError),
}

impl HubError {
    /// What the sync did before this error, when it went on past a refused push.
    pub fn report(&self) -> Option<&SyncReport> {
        match self {
            HubError::PushFailed { report, .. } | HubError::Held { report } => Some(report),
            _ => None,
        }
    }
}

impl UserFacing for HubError {
    fn kind(&self) -> &'static str {
        match self {
            HubError::NotEnrolled => "not_enrolled",
            HubError::BadUrl(_) => "bad_url",
            HubError::InsecureUrl(_) => "insecure_url",
            HubError::Unreachable(_) => "unreachable",
            HubError::Unauthorized => "unauthorized",
            HubError::Revoked => "revoked",
            HubError::BadCode { .. } => "bad_code",
            HubError::CodeUsed => "code_used",
            HubError::CodeExpired => "code_expired",
            HubError::CodeLocked => "code_locked",
            HubError::TooManyAttempts { .. } => "too_many_attempts",
            HubError::OutsideScope(_) => "outside_scope",
            HubError::PushFailed { error, .. } => error.kind(),
            HubError::Held { .. } => "held",
            HubError::OriginTaken => "origin_taken",
            HubError::BadResponse { .. } => "bad_response",
            HubError::Store(e) => e.kind(),
            HubError::Forged(_) => "bad_signature",
            HubError::DeviceKeyDiffers { .. } => "device_key_differs",
            HubError::PushSignatureRefused(_) => "push_signature_refused",
            HubError::NoRelease => "no_update",
            HubError::Update(e) => e.kind(),
        }
    }

    fn message_zh(&self) -> String {
        match self {
            HubError::NotEnrolled => {
                "本机还没有加入县同步中心，请先用县里发的加入码登记（bangfu enrol）。".into()
            }
            HubError::BadUrl(url) => {
                format!("县同步中心地址“{url}”不对，应以 https:// 开头。")
            }
            HubError::InsecureUrl(url) => format!(
                "县同步中心地址“{url}”用的是不加密的 http://，同步的数据（含证件号码）会在网上明文传输，本机拒绝连接。请改用 https:// 开头的地址（http:// 只能用于本机 127.0.0.1 的测试）。"
            ),
            HubError::Unreachable(_) => {
                "无法连接县同步中心，数据已保存在本机，联网后会自动同步。".into()
            }
            HubError::Unauthorized => {
                "县同步中心不认可本机的同步凭据（可能已被停用），请联系县管理员重新发加入码。"
                    .into()
            }
            HubError::Revoked => {
                "本机的同步凭据已被县管理员停用。本机此后上传的修改由县同步中心暂存待核查，不会并入；数据仍保存在本机。如需继续使用，请联系县管理员重新发加入码。"
                    .into()
            }
            HubError::BadCode { tries_left: Some(n) } if *n > 0 => format!(
                "加入码不对，请核对后重新输入（这个加入码还可再试 {n} 次，输错 5 次即作废）。"
            ),
            HubError::BadCode { .. } => {
                "加入码不对，请核对后重新输入；仍不对，请向县管理员重新索取。".into()
            }
            HubError::CodeUsed => {
                "这个加入码已经用过（每个加入码只能登记一台电脑），请向县里重新申请。".into()
            }
            HubError::CodeExpired => "加入码已过期，请向县里重新申请。".into(),
            HubError::CodeLocked => {
                "这个加入码输错次数太多，已经作废，请向县里重新申请。".into()
            }
            HubError::TooManyAttempts { retry_after_s } => format!(
                "本机所在网络的加入尝试太频繁，请 {} 分钟后再试。",
                retry_after_s.div_ceil(60).max(1)
            ),
            HubError::OutsideScope(_) => {
                "本机有修改超出本机的同步范围（不属于本村或本乡镇），县同步中心拒收。数据仍保存在本机，请联系县管理员。"
                    .into()
            }
            HubError::OriginTaken => {
                "县同步中心认为本机的数据由另一台已登记的电脑上传，请联系县管理员。".into()
            }
            HubError::PushFailed { error, report } => format!(
                "本次收到 {} 条修改（其中新的 {} 条），但上传本机的修改失败：{}",
                report.pulled,
                report.applied,
                error.message_zh()
            ),
            HubError::Held { report } => format!(
                "县同步中心暂扣了本机的 {} 条修改（超出本机的同步范围，或与中心已有的同一编号修改内容不同），其余修改已上传，收到 {} 条。暂扣的修改仍保存在本机，请联系县管理员核查（bangfu-hub held）。",
                report.held, report.pulled
            ),
            HubError::BadResponse { .. } => {
                "县同步中心的回应有误，本次同步已停止，数据已保存在本机，稍后会再试。".into()
            }
            HubError::Store(e) => e.message_zh(),
            HubError::Forged(_) => {
                "从县同步中心收到的数据与写入设备的签名不符（在传输或中心上被改动过），这一批未并入任何内容，本机数据没有变化。请告诉县管理员核查同步中心。".into()
            }
            HubError::DeviceKeyDiffers { name, here, hub } => format!(
                "县同步中心为设备“{name}”带来的安全码（{hub}）与本机确认的（{here}）不同，本次同步已停在这里，本机数据没有变化。县里登记的是同步中心带来的那一个，本机当初确认的可能是冒充的：请与县管理员核实；核实后在“设备与安全码”中对这台设备选“取消确认”（或运行 bangfu device unconfirm 安全码），再同步。若仍不能同步（冒充的修改占用了那台设备的修改编号），请把本机数据文件交县管理员处理。"
            ),
            HubError::PushSignatureRefused(_) => {
                "县同步中心拒收本机上传的修改：修改与本机设备密钥的签名不符，或本机的设备密钥与中心登记的不同。修改仍保存在本机，没有丢失。请联系县管理员核查这台电脑。".into()
            }
            HubError::NoRelease => "县同步中心上没有新版本。".into(),
            HubError::Update(e) => e.message_zh(),
        }
    }
}
