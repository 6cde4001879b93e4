//! A village's 拟脱贫户公示名单 as a PDF.

use super::*;

/// A household on the notice list.
struct Proposed {
    code: String,
    head: String,
    size: usize,
    per_capita: Option<f64>,
    helpers: String,
    notice: Option<(NaiveDate, Option<NaiveDate>)>,
    /// Why the household is listed although it does not meet the standard of the year or did
    /// not sign at 入户调查 (the 村两委商议's recorded exception); empty for one that does.
    remark: String,
}

/// The households of a village proposed for exit in `year`: in their current round, 村两委商议
/// agreed (and nothing sent them back since), dated in `year`.
fn proposed_households(
    store: &Store,
    village_id: Uuid,
    year: i32,
) -> Result<Vec<Proposed>, ExitPrintError> {
    let mut households: Vec<Household> = store
        .read::<Household>(Filter::All)?
        .into_iter()
        .filter(|h| h.village_id == Some(village_id))
        .collect();
    households.sort_by(|a, b| a.code.cmp(&b.code));
    let mut out = Vec::new();
    for h in households {
        let state = procedure_state(store, h.id)?;
        let past_deliberation = state.done.is_some_and(|d| d >= Step::Deliberation);
        if !past_deliberation || !matches!(state.phase, Phase::InProgress | Phase::Exited) {
            continue;
        }
        let records = current_round(store, h.id)?;
        let last_of = |step: Step| {
            records.iter().rev().find(|r| {
                r.action == ACTION_RECORD
                    && r.step == step.code()
                    && r.vote_result != RESULT_DISAGREE
            })
        };
        let in_year = last_of(Step::Deliberation)
            .and_then(|r| r.step_date)
            .is_some_and(|d| d.year() == year);
        if !in_year {
            continue;
        }
        let notice =
            last_of(Step::PublicNotice).and_then(|r| r.notice_start.map(|s| (s, r.notice_end)));
        let sheet = double_confirmation_sheet(store, h.id, year)?;
        let mut flags = Vec::new();
        for (status, word) in [
            (super::super::CheckStatus::NotMet, "未达标"),
            (super::super::CheckStatus::Unknown, "待核实"),
        ] {
            let checks: Vec<&str> = sheet
                .checks
                .iter()
                .filter(|c| c.status == status)
                .map(|c| c.label)
                .collect();
            if !checks.is_empty() {
                flags.push(format!("{word}：{}", checks.join("、")));
            }
        }
        if sheet.household_refused {
            flags.push("贫困户未签字认可".to_owned());
        }
        if !flags.is_empty()
            && let Some(reason) = last_of(Step::Deliberation)
                .map(|r| r.reason.trim())
                .filter(|r| !r.is_empty())
        {
            flags.push(format!("村两委商议：{reason}"));
        }
        out.push(Proposed {
            code: h.code,
            head: sheet.head_name,
            size: sheet.family_size,
            per_capita: sheet.income_per_capita,
            helpers: sheet
                .helpers
                .iter()
                .map(|x| x.name.as_str())
                .collect::<Vec<_>>()
                .join("、"),
            notice,
            remark: flags.join("；"),
        });
    }
    Ok(out)
}

/// The notice period most of the listed households recorded, if any did.
fn notice_period(list: &[Proposed]) -> Option<(NaiveDate, Option<NaiveDate>)> {
    let mut counts: HashMap<(NaiveDate, Option<NaiveDate>), usize> = HashMap::new();
    for p in list {
        if let Some(n) = p.notice {
            *counts.entry(n).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by_key(|(period, count)| (*count, std::cmp::Reverse(*period)))
        .map(|(period, _)| period)
}

/// A village's 拟脱贫户公示名单 for `year`, as a PDF.
pub fn notice_list_pdf(
    store: &Store,
    village_code: &str,
    year: i32,
) -> Result<Vec<u8>, ExitPrintError> {
    let village = village_by_code(store, village_code)?;
    let list = proposed_households(store, village.id, year)?;
    let mut name = if village.name.is_empty() {
        village.code.clone()
    } else {
        village.name.clone()
    };
    if !name.ends_with('村') {
        name.push('村');
    }
    if list.is_empty() {
        return Err(ExitPrintError::NoProposedHouseholds {
            village: name,
            year,
        });
    }
    let font = CjkFont::locate()?;
    let page = PageSize::A4_LANDSCAPE;
    let width = page.width - 2.0 * MARGIN;
    let title = format!("{name}{year}年拟脱贫户公示名单");
    let people: usize = list.iter().map(|p| p.size).sum();
    let period = match notice_period(&list) {
        Some((start, Some(end))) => format!(
            "公示期：{}至{}（共{}天）",
            date_zh(start),
            date_zh(end),
            (end - start).num_days() + 1
        ),
        Some((start, None)) => format!("公示期：自{}起", date_zh(start)),
        None => format!("公示期：{DATE_BLANK}至{DATE_BLANK}"),
    };
    // The list says "达到标准" only of the households that do: any other is counted apart and
    // marked in 备注 with the committee's recorded reason.
    let marked = list.iter().filter(|p| !p.remark.is_empty()).count();
    let intro = if marked == 0 {
        format!(
            "经入户调查、村两委商议，以下{}户{}人达到“一超两不愁三保障”脱贫标准，拟于{}年脱贫退出，现予公示。",
            list.len(),
            people,
            year
        )
    } else {
        format!(
            "经入户调查、村两委商议，以下{}户{}人拟于{}年脱贫退出，现予公示。其中{}户未全部达到（或尚待核实）“一超两不愁三保障”标准或贫困户未签字认可，情况见备注。",
            list.len(),
            people,
            year,
            marked
        )
    };
    let mut header_lines = vec![(title.clone(), TITLE_SIZE, Weight::Bold, Align::Center)];
    for line in font.wrap(&intro, SIZE, Weight::Regular, width) {
        header_lines.push((line, SIZE, Weight::Regular, Align::Left));
    }
    header_lines.push((period, SIZE, Weight::Regular, Align::Left));
    let header_h: f32 = header_lines
        .iter()
        .map(|(_, size, _, _)| size * LINE_HEIGHT)
        .sum::<f32>()
        + 2.0 * MM;

    let cols = [16.0, 46.0, 30.0, 26.0, 34.0, 70.0].map(|w| w * MM);
    let helper_w = width - cols.iter().sum::<f32>();
    let table_header = RowLayout::new(
        &font,
        vec![
            Cell::label(cols[0], "序号").bold(),
            Cell::label(cols[1], "户编号").bold(),
            Cell::label(cols[2], "户主").bold(),
            Cell::label(cols[3], "家庭人口（人）").bold(),
            Cell::label(cols[4], "人均纯收入（元）").bold(),
            Cell::label(helper_w, "帮扶责任人").bold(),
            Cell::label(cols[5], "备注").bold(),
        ],
        SIZE,
    );
    let rows: Vec<RowLayout> = list
        .iter()
        .enumerate()
        .map(|(i, p)| {
            RowLayout::new(
                &font,
                vec![
                    Cell::value(cols[0], (i + 1).to_string()).centered(),
                    Cell::value(cols[1], &p.code).centered(),
                    Cell::value(cols[2], &p.head).centered(),
                    Cell::value(cols[3], p.size.to_string()).centered(),
                    Cell::value(cols[4], p.per_capita.map(yuan).unwrap_or_default()).centered(),
                    Cell::value(helper_w, &p.helpers),
                    Cell::value(cols[5], &p.remark),
                ],
                SIZE,
            )
        })
        .collect();

    let closing = format!(
        "公示期间，群众如有异议，请向村委会或乡（镇）人民政府反映。村委会联系人：＿＿＿＿＿＿　联系电话：＿＿＿＿＿＿＿＿　监督举报电话：{NATIONAL_HOTLINE}"
    );
    let closing_lines = font.wrap(&closing, SIZE, Weight::Regular, width);
    let closing_h = (closing_lines.len() as f32 + 3.0) * SIZE * LINE_HEIGHT + 6.0 * MM;

    let table_top = MARGIN + header_h;
    let bottom = page.height - MARGIN - 3.0 * MM;
    let room = bottom - table_top;
    let mut pages = crate::cards::pdf::paginate(rows, table_header.height(), room);
    // The closing lines and the seal follow the table on its last page: move rows over until
    // they fit.
    let fits = |rows: &[RowLayout]| {
        table_header.height() + rows.iter().map(RowLayout::height).sum::<f32>() + closing_h <= room
    };
    let mut moved: Vec<RowLayout> = Vec::new();
    let mut closing_alone = false;
    if let Some(last) = pages.last_mut() {
        while !fits(last) && last.len() > 1 {
            if let Some(row) = last.pop() {
                moved.insert(0, row);
            }
        }
        closing_alone = !fits(last);
    }
    if !moved.is_empty() {
        pages.push(moved);
    } else if closing_alone {
        pages.push(Vec::new());
    }

    let seal_date = match notice_period(&list) {
        Some((start, _)) => date_zh(start),
        None => DATE_BLANK.to_owned(),
    };
    let mut doc = Document::new(&font, &title);
    let total = pages.len();
    for (n, page_rows) in pages.iter().enumerate() {
        doc.page(page, |c| {
            let mut y = MARGIN;
            for (text, size, weight, align) in &header_lines {
                let x = if *align == Align::Center {
                    page.width / 2.0
                } else {
                    MARGIN
                };
                c.text(x, y, *size, *weight, *align, text);
                y += size * LINE_HEIGHT;
            }
            let mut y = table_top;
            c.row(MARGIN, y, &table_header, table_header.height());
            y += table_header.height();
            for row in page_rows {
                c.row(MARGIN, y, row, row.height());
                y += row.height();
            }
            if n + 1 == total {
                y += 3.0 * MM;
                for line in &closing_lines {
                    c.text(MARGIN, y, SIZE, Weight::Regular, Align::Left, line);
                    y += SIZE * LINE_HEIGHT;
                }
                y += 3.0 * MM + SIZE * LINE_HEIGHT;
                let seal = page.width - MARGIN - 45.0 * MM;
                c.text(
                    seal,
                    y,
                    SIZE,
                    Weight::Regular,
                    Align::Center,
                    "村委会（盖章）",
                );
                y += SIZE * LINE_HEIGHT;
                c.text(seal, y, SIZE, Weight::Regular, Align::Center, &seal_date);
            }
            footer(c, page, MARGIN, SMALL, n + 1, total);
        })?;
    }
    Ok(doc.finish()?)
}
