//! The exit procedure's printed forms read back with poppler: the 双认定表 of a household
//! (its name, code, every check with its result, the procedure steps and the signature lines),
//! the 帮扶情况认定表 of a household that refused, and a village's 公示 list spanning pages with
//! its header on each.

// The helpers of this file are test code too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod pdf;

use std::path::Path;
use std::process::Command;

use bangfu_core::UserFacing;
use bangfu_core::exit::procedure::{Step, StepRecord, record_step};
use bangfu_core::exit::{
    ExitPrintError, double_confirmation_pdf, evaluate_household, notice_list_pdf,
};
use bangfu_core::model::{Helper, Household, Income, Member, Pairing, Village};
use bangfu_core::store::{Store, put_change};
use chrono::NaiveDate;
use uuid::Uuid;

use pdf::{A4, A4_LANDSCAPE, page_info, pages_text, squeeze, write};

const T0: u64 = 1_510_000_000_000; // November 2017
const VILLAGE_CODE: &str = "530826103201";

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn file_village(store: &mut Store) -> Uuid {
    let village = Village {
        id: Uuid::now_v7(),
        code: VILLAGE_CODE.into(),
        name: "新文村".into(),
        township: "勐康镇".into(),
        county: "澜江县".into(),
        province: "云南省".into(),
        rural_population: Some(1200),
        ..Default::default()
    };
    store.write(&[put_change(&village)]).unwrap();
    village.id
}

/// A household of three meeting the 2017 standard, with a cadre; returns its id.
fn file_household(store: &mut Store, village: Uuid, n: usize, head: &str) -> Uuid {
    let household = Household {
        id: Uuid::now_v7(),
        village_id: Some(village),
        code: format!("{VILLAGE_CODE}{n:03}"),
        group_name: "田坝组".into(),
        attribute: "1".into(),
        main_cause: "01".into(),
        poverty_status: "1".into(),
        dangerous_house: Some(false),
        water_safe: Some(true),
        water_difficult: Some(false),
        ..Default::default()
    };
    let members = [head, "李秀英", "张小花"].map(|name| Member {
        id: Uuid::now_v7(),
        household_id: Some(household.id),
        name: name.into(),
        relation: if name == head { "01" } else { "02" }.into(),
        medical_insurance: Some(true),
        ..Default::default()
    });
    let income = Income {
        id: Uuid::now_v7(),
        household_id: Some(household.id),
        year: Some(2017),
        wage: Some(12003.0),
        ..Default::default()
    };
    let helper = Helper {
        id: Uuid::now_v7(),
        name: "段菊".into(),
        unit: "澜江县民政局".into(),
        phone: "18098537033".into(),
        ..Default::default()
    };
    let pairing = Pairing {
        id: Uuid::now_v7(),
        household_id: Some(household.id),
        helper_id: Some(helper.id),
        start_date: Some(day("2016-03-01")),
        ..Default::default()
    };
    let mut changes = vec![
        put_change(&household),
        put_change(&income),
        put_change(&helper),
        put_change(&pairing),
    ];
    changes.extend(members.iter().map(put_change));
    store.write(&changes).unwrap();
    household.id
}

/// Records 入户调查 (signed or refused), then 村两委商议 and 村评议公示 up to `upto`.
fn advance(store: &mut Store, household: Uuid, signed: bool, upto: Step) {
    let mut survey = StepRecord::new(
        Step::Survey,
        day("2017-08-01"),
        "村委会 王村长、工作队 刘队员",
    );
    survey.household_signed = Some(signed);
    survey.food_secure = Some(true);
    survey.clothing_secure = Some(true);
    survey.signatures = "王村长、刘队员".into();
    survey.notes = "家中新建砖混住房一栋，儿子在昆明务工收入稳定，种植核桃十亩、养猪两头，\
                    家庭情况明显好转，户主对帮扶工作表示满意，但认为自家仍有困难。"
        .into();
    record_step(store, household, &survey).unwrap();
    if upto >= Step::Deliberation {
        let mut r = StepRecord::new(Step::Deliberation, day("2017-08-05"), "村两委、驻村工作队");
        r.vote_type = "2".into();
        r.result = "1".into();
        r.work_team_present = Some(true);
        if !signed {
            r.exception_reason = Some("户主外出务工，家属认可脱贫".into());
            r.exception_by = Some("张书记（村党总支书记）".into());
        }
        record_step(store, household, &r).unwrap();
    }
    if upto >= Step::PublicNotice {
        let mut r = StepRecord::new(Step::PublicNotice, day("2017-08-11"), "村委会");
        r.notice_start = Some(day("2017-08-06"));
        r.notice_end = Some(day("2017-08-10"));
        common::signed_and_reviewed(&mut r);
        record_step(store, household, &r).unwrap();
    }
}

/// Renders page 1 next to the PDF, for a person to look at (BANGFU_KEEP_PNG=dir keeps it).
fn keep_png(pdf: &Path, name: &str) {
    if let Ok(dir) = std::env::var("BANGFU_KEEP_PNG") {
        let _ = Command::new("pdftoppm")
            .args(["-r", "80", "-png", "-f", "1", "-l", "1"])
            .arg(pdf)
            .arg(Path::new(&dir).join(name))
            .status();
    }
}

#[test]
fn the_double_confirmation_sheet_shows_the_household_every_check_and_the_signature_lines() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "新文村", T0);
    let village = file_village(&mut store);
    let id = file_household(&mut store, village, 1, "张大山");
    advance(&mut store, id, true, Step::PublicNotice);

    let bytes = double_confirmation_pdf(&store, id, 2017).unwrap();
    let pdf = write(dir.path(), "sheet.pdf", &bytes);
    keep_png(&pdf, "sheet");
    let (pages, size) = page_info(&pdf);
    assert_eq!(size, A4);
    let text = pages_text(&pdf);
    assert_eq!(text.len(), pages);
    let all = text.concat();
    assert!(text[0].starts_with("贫困户脱贫销号双认定表"), "{}", text[0]);
    assert!(!all.contains("帮扶情况认定表"));
    for wanted in [
        "张大山",
        "530826103201001",
        "澜江县",
        "勐康镇",
        "新文村",
        "家庭人口",
        "3人",
        "人均纯收入",
        "4001元",
        "段菊",
        // The steps with their dates and people.
        "入户调查2017年8月1日村委会王村长、工作队刘队员",
        "村两委商议2017年8月5日",
        "村评议公示2017年8月11日",
        "公示期:2017年8月6日至2017年8月10日",
        // The survey's long notes are wrapped, never clipped.
        "户主对帮扶工作表示满意,但认为自家仍有困难。",
    ] {
        assert!(all.contains(&squeeze(wanted)), "missing {wanted}:\n{all}");
    }
    // Each check with its result, in the order of the evaluation.
    let evaluation = evaluate_household(&store, id, 2017).unwrap();
    // 云南省's shipped standard (the report's) also checks 养老有保障.
    assert_eq!(evaluation.checks.len(), 8);
    let mut from = 0;
    for check in &evaluation.checks {
        let label = squeeze(check.label);
        let at = all[from..]
            .find(&label)
            .unwrap_or_else(|| panic!("check {label} missing after {from}:\n{all}"))
            + from;
        let rest = &all[at + label.len()..];
        let result = rest.find(check.status_label).unwrap();
        assert!(
            result < 120,
            "{label}: result {} too far from its label",
            check.status_label
        );
        from = at + label.len();
    }
    // The signature lines, after the checks, each with a date blank.
    for label in ["户主签字", "帮扶责任人", "驻村工作队", "村两委", "乡镇"] {
        assert!(all[from..].contains(label), "signature {label} missing");
    }
    assert!(all[from..].matches("年月日").count() >= 5);
}

#[test]
fn a_household_that_refused_to_sign_gets_the_help_situation_sheet() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "新文村", T0);
    let village = file_village(&mut store);
    let id = file_household(&mut store, village, 2, "王老五");
    advance(&mut store, id, false, Step::Survey);

    let bytes = double_confirmation_pdf(&store, id, 2017).unwrap();
    let pdf = write(dir.path(), "refused.pdf", &bytes);
    keep_png(&pdf, "refused");
    assert_eq!(page_info(&pdf).1, A4);
    let all = pages_text(&pdf).concat();
    assert!(all.starts_with("贫困户帮扶情况认定表"), "{all}");
    assert!(!all.contains("脱贫销号双认定表"));
    for wanted in ["王老五", "530826103201002", "贫困户未签字认可", "户主签字"] {
        assert!(all.contains(wanted), "missing {wanted}");
    }
}

#[test]
fn the_notice_list_of_a_large_village_spans_pages_with_the_header_on_each() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "新文村", T0);
    let village = file_village(&mut store);
    let mut codes = Vec::new();
    for n in 1..=45 {
        let id = file_household(&mut store, village, n, &format!("户主{n:02}"));
        advance(&mut store, id, true, Step::PublicNotice);
        codes.push(format!("{VILLAGE_CODE}{n:03}"));
    }
    // Not proposed: only surveyed.
    let id = file_household(&mut store, village, 46, "未商议");
    advance(&mut store, id, true, Step::Survey);

    let bytes = notice_list_pdf(&store, VILLAGE_CODE, 2017).unwrap();
    let pdf = write(dir.path(), "notice.pdf", &bytes);
    keep_png(&pdf, "notice");
    let (pages, size) = page_info(&pdf);
    assert_eq!(size, A4_LANDSCAPE);
    assert!(pages >= 2, "45 households on {pages} page(s)");
    let text = pages_text(&pdf);
    assert_eq!(text.len(), pages);
    for (n, page) in text.iter().enumerate() {
        assert!(
            page.starts_with("新文村2017年拟脱贫户公示名单"),
            "page {n}: {page}"
        );
        for header in [
            "公示期:2017年8月6日至2017年8月10日",
            "户编号",
            "户主",
            "家庭人口",
            "人均纯收入",
            "帮扶责任人",
        ] {
            assert!(page.contains(&squeeze(header)), "page {n} lacks {header}");
        }
    }
    let all = text.concat();
    for code in &codes {
        assert_eq!(all.matches(code.as_str()).count(), 1, "{code}");
    }
    assert!(!all.contains("未商议"));
    assert!(all.contains("4001"));
    let last = text.last().unwrap();
    assert!(last.contains("村委会(盖章)"), "{last}");
    assert!(last.contains("联系电话"));

    // A village without proposed households has nothing to print, said in Chinese.
    let empty = common::open_at(dir.path(), "空村", T0);
    let err = notice_list_pdf(&empty, VILLAGE_CODE, 2017).unwrap_err();
    assert_eq!(err.kind(), "village_not_found");
    let err = notice_list_pdf(&store, VILLAGE_CODE, 2016).unwrap_err();
    assert!(matches!(err, ExitPrintError::NoProposedHouseholds { .. }));
    assert!(err.message_zh().contains("新文村2016年"));
}

#[test]
fn the_notice_list_marks_a_household_that_did_not_sign_with_the_committees_reason() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "新文村", T0);
    let village = file_village(&mut store);
    let signed = file_household(&mut store, village, 1, "签字户");
    advance(&mut store, signed, true, Step::Deliberation);
    let refused = file_household(&mut store, village, 2, "拒签户");
    advance(&mut store, refused, false, Step::Deliberation);
    let bytes = notice_list_pdf(&store, VILLAGE_CODE, 2017).unwrap();
    let pdf = write(dir.path(), "notice-marked.pdf", &bytes);
    let all = pages_text(&pdf).concat();
    assert!(all.contains(&squeeze("备注")), "{all}");
    assert_eq!(
        all.matches(&squeeze("贫困户未签字认可")).count(),
        2,
        "{all}"
    );
    assert!(
        all.contains(&squeeze("户主外出务工，家属认可脱贫")),
        "{all}"
    );
    // The list no longer says every listed household meets the standard.
    assert!(!all.contains(&squeeze("以下2户6人达到")), "{all}");
    assert!(all.contains(&squeeze("其中")), "{all}");
}
