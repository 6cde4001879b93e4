//! Printed help-contact cards and visit sheets, read back with poppler: every household's
//! name, cadre and phone on its own page, page sizes, long content kept whole and inside the
//! page, visit tables continued across pages.

// The helpers below run only inside tests; clippy.toml's allowance for tests covers #[test]
// functions but not the helpers of a test binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod pdf;

use std::ops::ControlFlow;
use std::path::Path;

use bangfu_core::cards::{CardLayout, CardRequest, help_cards, help_cards_pdf, visits_sheet_pdf};
use bangfu_core::model::codes::RELATION_HEAD;
use bangfu_core::model::{Helper, Household, Measure, Member, Pairing, Village, Visit};
use bangfu_core::store::{Filter, Store, put_change};
use chrono::NaiveDate;
use uuid::Uuid;

use pdf::{A4, A4_LANDSCAPE, A5, page_info, pages_text, poppler, squeeze, write};

/// What must be on a household's card, read from the store without the card code.
fn expected_on_card(store: &Store, h: &Household) -> Vec<String> {
    let members = store.read::<Member>(Filter::OfHousehold(h.id)).unwrap();
    let head = members.iter().find(|m| m.relation == RELATION_HEAD);
    let mut pairings = store.read::<Pairing>(Filter::OfHousehold(h.id)).unwrap();
    pairings.sort_by_key(|p| (p.end_date.is_none(), p.start_date));
    let helper: Helper = store
        .get(pairings.last().and_then(|p| p.helper_id).unwrap())
        .unwrap();
    vec![
        head.map_or("未登记户主".to_owned(), |m| m.name.clone()),
        h.code.clone(),
        helper.name,
        helper.phone,
        helper.unit,
    ]
}

#[test]
fn every_card_of_the_demo_village_shows_its_household_and_cadre_on_its_own_page() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "新文村", 1_700_000_000_000);
    bangfu_core::demo::write_demo_village(&mut store).unwrap();
    let mut households = store.read::<Household>(Filter::All).unwrap();
    households.sort_by(|a, b| a.code.cmp(&b.code));

    for (layout, per_page, size) in [(CardLayout::A5, 1, A5), (CardLayout::A4x2, 2, A4_LANDSCAPE)] {
        let request = CardRequest {
            village: Some("530826103201".into()),
            layout,
            ..CardRequest::default()
        };
        let mut calls = Vec::new();
        let bytes = help_cards_pdf(&store, &request, &mut |done, total| {
            calls.push((done, total));
            ControlFlow::Continue(())
        })
        .unwrap();
        let pdf = write(dir.path(), "cards.pdf", &bytes);
        let pages = households.len().div_ceil(per_page);
        assert_eq!(page_info(&pdf), (pages, size.to_owned()), "{layout:?}");
        assert_eq!(calls.last(), Some(&(households.len(), households.len())));
        let text = pages_text(&pdf);
        assert_eq!(text.len(), pages);
        for (i, h) in households.iter().enumerate() {
            let page = &text[i / per_page];
            for wanted in expected_on_card(&store, h) {
                assert!(
                    page.contains(&squeeze(&wanted)),
                    "{layout:?}: {wanted} of {} missing on page {}",
                    h.code,
                    i / per_page + 1
                );
            }
            // A card never carries a neighbour's household code.
            let other = &households[(i + per_page) % households.len()].code;
            assert!(!page.contains(other.as_str()), "{layout:?} page {}", i + 1);
        }
        assert!(text[0].contains("监督举报电话:12317"), "{}", text[0]);
    }
}

/// A household with everything as long as the forms allow, and 12 measures.
fn extreme_household(store: &mut Store) -> (Household, Vec<String>) {
    let village = Village {
        id: Uuid::now_v7(),
        code: "653130100200".into(),
        name: "托万克吐格曼贝希村".into(),
        township: "塔什米里克乡".into(),
        county: "疏附县".into(),
        province: "新疆维吾尔自治区".into(),
        rural_population: Some(3000),
        ..Default::default()
    };
    let household = Household {
        id: Uuid::now_v7(),
        village_id: Some(village.id),
        code: "653130100200007".into(),
        address:
            "疏附县塔什米里克乡托万克吐格曼贝希村第七村民小组（原阿亚格托万克吐格曼贝希自然村）"
                .into(),
        attribute: "3".into(),
        main_cause: "02".into(),
        other_causes: "01,07".into(),
        development_intent: "希望扩大庭院经济，发展核桃和红枣种植，参加合作社统一销售，\
            两个孩子读完职业高中后外出务工，争取三年内盖起安居房"
            .into(),
        ..Default::default()
    };
    let head = Member {
        id: Uuid::now_v7(),
        household_id: Some(household.id),
        name: "阿卜杜热合曼·买买提明·艾则孜托合提".into(),
        relation: RELATION_HEAD.into(),
        ..Default::default()
    };
    let helper = Helper {
        id: Uuid::now_v7(),
        name: "欧阳晓明".into(),
        unit: "新疆维吾尔自治区喀什地区疏附县人民政府办公室驻塔什米里克乡托万克吐格曼贝希村\
            访民情惠民生聚民心工作队（县乡村振兴局、县农业农村局联合派驻）"
            .into(),
        title: "工作队队长兼第一书记".into(),
        phone: "0998-5621234".into(),
        ..Default::default()
    };
    let pairing = Pairing {
        id: Uuid::now_v7(),
        household_id: Some(household.id),
        helper_id: Some(helper.id),
        start_date: NaiveDate::from_ymd_opt(2017, 3, 1),
        end_date: None,
    };
    let paths = [
        "01", "03", "04", "06", "07", "08", "09", "10", "02", "05", "01", "04",
    ];
    let measures: Vec<Measure> = paths
        .iter()
        .enumerate()
        .map(|(i, path)| Measure {
            id: Uuid::now_v7(),
            household_id: Some(household.id),
            year: Some(2018),
            path: (*path).into(),
            description: format!(
                "第{}项：按照“一户一策”要求落实帮扶资金并由帮扶责任人跟踪到户，措施编号CX2018-{:03}",
                i + 1,
                i + 1
            ),
            target: if i % 4 == 0 {
                format!("第{}季度人均纯收入达到{}元", i / 4 + 1, 3000 + i * 100)
            } else {
                String::new()
            },
            amount: Some(1000.0 * (i + 1) as f64 + 0.5),
            status: "2".into(),
            ..Default::default()
        })
        .collect();
    let mut changes = vec![
        put_change(&village),
        put_change(&household),
        put_change(&head),
        put_change(&helper),
        put_change(&pairing),
    ];
    changes.extend(measures.iter().map(put_change));
    store.write(&changes).unwrap();
    let mut texts = vec![
        head.name,
        household.address.clone(),
        helper.unit,
        helper.title,
        helper.phone,
        household.development_intent.clone(),
        "特困供养贫困户".into(),
        "因残、因病、缺技术".into(),
        "2018年帮扶措施".into(),
    ];
    for m in &measures {
        texts.push(m.description.clone());
        texts.push(format!("{:.2}", m.amount.unwrap()));
        if !m.target.is_empty() {
            texts.push(m.target.clone());
        }
    }
    (household, texts)
}

/// Word boxes of `pdftotext -bbox`, per page: (text, xMin, yMin, xMax, yMax).
type WordBox = (String, f32, f32, f32, f32);

fn word_boxes_by_page(pdf: &Path) -> Vec<Vec<WordBox>> {
    let html = poppler("pdftotext", &["-bbox"], pdf);
    let attr = |line: &str, name: &str| -> f32 {
        let start = line.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        let rest = &line[start..];
        rest[..rest.find('"').unwrap()].parse().unwrap()
    };
    let mut pages: Vec<Vec<WordBox>> = Vec::new();
    for l in html.lines().map(str::trim_start) {
        if l.starts_with("<page ") {
            pages.push(Vec::new());
        } else if l.starts_with("<word ") {
            let text = l[l.find('>').unwrap() + 1..l.rfind("</word>").unwrap()].to_owned();
            let word = (
                text,
                attr(l, "xMin"),
                attr(l, "yMin"),
                attr(l, "xMax"),
                attr(l, "yMax"),
            );
            pages.last_mut().expect("word inside a page").push(word);
        }
    }
    pages
}

#[test]
fn a_card_with_a_huge_unit_name_and_twelve_measures_keeps_all_its_text_inside_the_card() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "疏附", 1_700_000_000_000);
    let (household, texts) = extreme_household(&mut store);
    for (layout, size, card_w) in [
        (CardLayout::A5, A5, 419.528),
        (CardLayout::A4x2, A4_LANDSCAPE, 420.945),
    ] {
        let request = CardRequest {
            household: Some(household.code.clone()),
            layout,
            ..CardRequest::default()
        };
        let bytes =
            help_cards_pdf(&store, &request, &mut |_, _| ControlFlow::Continue(())).unwrap();
        let pdf = write(dir.path(), &format!("extreme-{layout:?}.pdf"), &bytes);
        assert_eq!(page_info(&pdf), (1, size.to_owned()));
        let page = &pages_text(&pdf)[0];
        for wanted in &texts {
            assert!(
                page.contains(&squeeze(wanted)),
                "{layout:?}: missing {wanted}"
            );
        }
        // Nothing runs into the 9 mm margin of the card (a little slack for glyph bounds).
        let margin = 9.0 * 72.0 / 25.4 - 1.0;
        for (word, x0, y0, x1, y1) in word_boxes_by_page(&pdf).concat() {
            assert!(
                x0 >= margin && x1 <= card_w - margin && y0 >= margin && y1 <= 595.276 - margin,
                "{layout:?}: {word} at ({x0},{y0})-({x1},{y1}) is outside the card"
            );
        }
    }
}

#[test]
fn the_preview_card_names_the_current_cadre_and_the_year_of_its_measures() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "疏附", 1_700_000_000_000);
    let (household, _) = extreme_household(&mut store);
    let request = CardRequest {
        household: Some(household.code.clone()),
        ..CardRequest::default()
    };
    let cards = help_cards(&store, &request).unwrap();
    let card = &cards[0];
    assert_eq!(card.head_name, "阿卜杜热合曼·买买提明·艾则孜托合提");
    assert_eq!(
        card.cadre.as_ref().map(|c| c.name.as_str()),
        Some("欧阳晓明")
    );
    assert_eq!((card.year, card.measures.len()), (Some(2018), 12));
    assert_eq!(card.targets.len(), 3);
    assert_eq!(card.causes, ["因残", "因病", "缺技术"]);
    assert_eq!(card.qr_text, household.code);
    // A year without measures gives an empty list, not another year's.
    let other_year = CardRequest {
        year: Some(2016),
        ..request
    };
    assert!(
        help_cards(&store, &other_year).unwrap()[0]
            .measures
            .is_empty()
    );
}

#[test]
fn a_long_visit_log_runs_over_pages_without_losing_a_word() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "疏附", 1_700_000_000_000);
    let (household, _) = extreme_household(&mut store);
    let helper = store.read::<Helper>(Filter::All).unwrap().remove(0);
    let visits: Vec<Visit> = (0..30)
        .map(|i| Visit {
            id: Uuid::now_v7(),
            household_id: Some(household.id),
            helper_id: Some(helper.id),
            visit_date: NaiveDate::from_ymd_opt(2018, 1, 1).map(|d| d + chrono::Days::new(i * 9)),
            found: format!("第{i}次走访：").to_owned()
                + &"家中老人腿脚不便，孩子在县城读职业高中，庭院核桃长势良好。"
                    .repeat(1 + (i % 7) as usize),
            done: format!("落实{i}：讲解“2355”产业扶持政策，联系乡卫生院上门随访。"),
        })
        .collect();
    let changes: Vec<_> = visits.iter().map(put_change).collect();
    store.write(&changes).unwrap();

    let bytes = visits_sheet_pdf(&store, &household.code).unwrap();
    let pdf = write(dir.path(), "visits.pdf", &bytes);
    let (pages, size) = page_info(&pdf);
    assert_eq!(size, A4);
    assert!(pages >= 3, "{pages} pages");
    // Each text column, read down every page below its header, must give back the visits'
    // text exactly and in order: nothing lost at a page break, nothing doubled.
    let mut found_column = String::new();
    let mut done_column = String::new();
    for page in word_boxes_by_page(&pdf) {
        let header_y = page
            .iter()
            .find(|w| w.0 == "了解情况")
            .map(|w| w.2)
            .expect("table header on every page");
        // Below the header and above the page number (whose line starts at 786 pt).
        let in_table = |w: &&WordBox| w.2 > header_y + 1.0 && w.2 < 785.0;
        for (word, x0, ..) in page.iter().filter(in_table) {
            // Column edges of visits.rs: 15 mm margin, 31 mm date, 22 mm cadre, then two
            // columns of 90 mm.
            match *x0 {
                x if (193.0..372.0).contains(&x) => found_column.push_str(word),
                x if (373.0..553.0).contains(&x) => done_column.push_str(word),
                _ => {}
            }
        }
    }
    let all =
        |f: fn(&Visit) -> &String| squeeze(&visits.iter().map(f).cloned().collect::<String>());
    assert_eq!(squeeze(&found_column), all(|v| &v.found));
    assert_eq!(squeeze(&done_column), all(|v| &v.done));
    let raw = poppler("pdftotext", &["-raw", "-enc", "UTF-8"], &pdf);
    assert_eq!(
        raw.matches("共 ").count(),
        pages,
        "a page number on every page"
    );
}

#[test]
fn asking_for_an_unknown_village_or_household_says_so_in_chinese() {
    use bangfu_core::UserFacing;
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "疏附", 1_700_000_000_000);
    extreme_household(&mut store);
    let cases = [
        (
            Some("999999999999"),
            None,
            "village_not_found",
            "找不到村代码为 999999999999 的村",
        ),
        (
            None,
            Some("1"),
            "household_not_found",
            "找不到户编号为 1 的户",
        ),
    ];
    for (village, household, kind, message) in cases {
        let request = CardRequest {
            village: village.map(str::to_owned),
            household: household.map(str::to_owned),
            ..CardRequest::default()
        };
        let err =
            help_cards_pdf(&store, &request, &mut |_, _| ControlFlow::Continue(())).unwrap_err();
        assert_eq!(err.kind(), kind);
        assert!(err.message_zh().contains(message), "{}", err.message_zh());
    }
    let err = visits_sheet_pdf(&store, "1").unwrap_err();
    assert_eq!(err.kind(), "household_not_found");
}

#[test]
fn a_batch_stops_when_its_progress_answers_break_and_a_selection_narrows_the_cards() {
    use bangfu_core::UserFacing;
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "新文村", 1_700_000_000_000);
    bangfu_core::demo::write_demo_village(&mut store).unwrap();
    let mut households = store.read::<Household>(Filter::All).unwrap();
    households.sort_by(|a, b| a.code.cmp(&b.code));

    // Cancelled after the third card: no PDF, a Chinese message, no further pages laid out.
    let mut seen = 0;
    let err = help_cards_pdf(&store, &CardRequest::default(), &mut |done, _| {
        seen = done;
        if done >= 3 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .unwrap_err();
    assert_eq!((err.kind(), seen), ("cancelled", 3));
    assert!(err.message_zh().contains("已取消"), "{}", err.message_zh());

    // A list screen's selection: exactly those households, by code, whatever order they came in.
    let picked = [&households[7], &households[2], &households[40]];
    let request = CardRequest {
        household_ids: picked.iter().map(|h| h.id).collect(),
        ..CardRequest::default()
    };
    let codes: Vec<String> = help_cards(&store, &request)
        .unwrap()
        .into_iter()
        .map(|c| c.household_code)
        .collect();
    let mut expected: Vec<String> = picked.iter().map(|h| h.code.clone()).collect();
    expected.sort();
    assert_eq!(codes, expected);
}

#[test]
fn the_ids_of_a_filtered_list_are_every_household_of_its_pages() {
    use bangfu_core::query::{HouseholdQuery, household_ids, households};
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "新文村", 1_700_000_000_000);
    bangfu_core::demo::write_demo_village(&mut store).unwrap();
    for query in [
        HouseholdQuery::default(),
        HouseholdQuery {
            poverty_status: Some("1".into()),
            ..HouseholdQuery::default()
        },
        HouseholdQuery {
            text: "王".into(),
            ..HouseholdQuery::default()
        },
    ] {
        let ids = household_ids(&store, &query).unwrap();
        // The same households the list shows, page after page of 20.
        let mut listed = Vec::new();
        for page in 0.. {
            let rows = households(
                &store,
                &HouseholdQuery {
                    offset: page * 20,
                    limit: 20,
                    sort: Some("code".into()),
                    ..query.clone()
                },
            )
            .unwrap()
            .rows;
            if rows.is_empty() {
                break;
            }
            listed.extend(rows.into_iter().map(|r| r.id));
        }
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        assert!(!ids.is_empty(), "{query:?}");
        assert_eq!(ids, listed, "{query:?}");
    }
}
