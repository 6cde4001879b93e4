//! The 双认定表 (帮扶情况认定表) of one household as a PDF.

use super::*;

/// One household's 双认定表 (or 帮扶情况认定表) for a year, as a PDF.
pub fn double_confirmation_pdf(
    store: &Store,
    household_id: Uuid,
    year: i32,
) -> Result<Vec<u8>, ExitPrintError> {
    let sheet = double_confirmation_sheet(store, household_id, year)?;
    let records = current_round(store, household_id)?;
    let font = CjkFont::locate()?;
    let page = PageSize::A4;
    let blocks = sheet_blocks(&font, &sheet, &records, page.width - 2.0 * MARGIN);
    let first_top = MARGIN;
    let top = MARGIN + SMALL * LINE_HEIGHT + 2.0 * MM;
    let bottom = page.height - MARGIN - 3.0 * MM;
    let pages = flow(blocks, first_top, top, bottom);
    let mut doc = Document::new(&font, sheet.title);
    let total = pages.len();
    let running = format!(
        "{}（续）　户主：{}　户编号：{}",
        sheet.title, sheet.head_name, sheet.household_code
    );
    for (n, placed) in pages.iter().enumerate() {
        doc.page(page, |c| {
            if n > 0 {
                c.text(
                    MARGIN,
                    MARGIN,
                    SMALL,
                    Weight::Regular,
                    Align::Left,
                    &running,
                );
            }
            for (y, block) in placed {
                draw(c, page, MARGIN, *y, block);
            }
            footer(c, page, MARGIN, SMALL, n + 1, total);
        })?;
    }
    Ok(doc.finish()?)
}

fn sheet_blocks(
    font: &CjkFont,
    s: &DoubleConfirmationSheet,
    records: &[ExitStep],
    width: f32,
) -> Vec<Block> {
    let row = |cells: Vec<Cell>| Block::Row {
        row: RowLayout::new(font, cells, SIZE),
        min: 0.0,
    };
    let heading = |text: &str| {
        vec![
            Block::KeepRoom(SIZE * LINE_HEIGHT * 4.0),
            Block::Gap(2.5 * MM),
            Block::Line {
                text: text.into(),
                size: 11.5,
                weight: Weight::Bold,
                align: Align::Left,
            },
            Block::Gap(1.0 * MM),
        ]
    };
    let lab = 30.0 * MM;
    let half = (width - 2.0 * lab) / 2.0;
    let wide = width - lab;
    let or_blank = |t: &str| {
        if t.is_empty() {
            "—".to_owned()
        } else {
            t.to_owned()
        }
    };

    let mut b = lines(
        font,
        s.title,
        TITLE_SIZE,
        Weight::Bold,
        Align::Center,
        width,
    );
    b.push(Block::Line {
        text: format!("（{}年度）", s.year),
        size: SIZE,
        weight: Weight::Regular,
        align: Align::Center,
    });
    b.push(Block::Gap(2.0 * MM));
    let mut place = vec![
        format!("县（市、区）：{}", or_blank(&s.county)),
        format!("乡（镇）：{}", or_blank(&s.township)),
        format!("村：{}", or_blank(&s.village)),
    ];
    if !s.group_name.is_empty() {
        place.push(format!("组：{}", s.group_name));
    }
    let place = place.join("　　");
    b.extend(lines(
        font,
        &place,
        SIZE,
        Weight::Regular,
        Align::Left,
        width,
    ));

    b.extend(heading("一、家庭基本情况"));
    b.push(row(vec![
        Cell::label(lab, "户主姓名"),
        Cell::value(half, or_blank(&s.head_name)),
        Cell::label(lab, "户编号"),
        Cell::value(half, &s.household_code),
    ]));
    b.push(row(vec![
        Cell::label(lab, "家庭人口"),
        Cell::value(half, format!("{}人", s.family_size)),
        Cell::label(lab, "贫困户属性"),
        Cell::value(half, or_blank(&s.attribute)),
    ]));
    b.push(row(vec![
        Cell::label(lab, "主要致贫原因"),
        Cell::value(half, or_blank(&s.main_cause)),
        Cell::label(lab, "住址"),
        Cell::value(half, or_blank(&s.address)),
    ]));
    let members = s
        .members
        .iter()
        .map(|m| {
            if m.relation.is_empty() {
                m.name.clone()
            } else {
                format!("{}（{}）", m.name, m.relation)
            }
        })
        .collect::<Vec<_>>()
        .join("、");
    b.push(row(vec![
        Cell::label(lab, "家庭成员"),
        Cell::value(wide, or_blank(&members)),
    ]));
    let helpers = s
        .helpers
        .iter()
        .map(|h| {
            let extra: Vec<&str> = [h.unit.as_str(), h.phone.as_str()]
                .into_iter()
                .filter(|t| !t.is_empty())
                .collect();
            if extra.is_empty() {
                h.name.clone()
            } else {
                format!("{}（{}）", h.name, extra.join("，"))
            }
        })
        .collect::<Vec<_>>()
        .join("；");
    b.push(row(vec![
        Cell::label(lab, "帮扶责任人"),
        Cell::value(wide, or_blank(&helpers)),
    ]));
    let measures = s
        .measures
        .iter()
        .map(|m| {
            let mut t = String::new();
            if !m.path.is_empty() {
                t.push_str(&m.path);
                t.push('：');
            }
            t.push_str(&m.description);
            if let Some(a) = m.amount {
                t.push_str(&format!("（{}元）", yuan(a)));
            }
            t
        })
        .collect::<Vec<_>>()
        .join("；");
    b.push(row(vec![
        Cell::label(lab, format!("{}年帮扶措施", s.year)),
        Cell::value(wide, or_blank(&measures)),
    ]));

    b.extend(heading(&format!("二、{}年度收入情况", s.year)));
    let money =
        |v: Option<f64>| v.map_or_else(|| "无收入记录".to_owned(), |v| format!("{}元", yuan(v)));
    b.push(row(vec![
        Cell::label(lab, "家庭纯收入"),
        Cell::value(half, money(s.income_net)),
        Cell::label(lab, "人均纯收入"),
        Cell::value(half, money(s.income_per_capita)).bold(),
    ]));
    let versus = match s.income_per_capita {
        Some(pc) if pc > s.income_line => {
            format!("人均纯收入高于贫困线 {} 元", yuan(pc - s.income_line))
        }
        Some(_) => "人均纯收入未超过贫困线".to_owned(),
        None => "缺少当年收入记录，无法比较".to_owned(),
    };
    b.push(row(vec![
        Cell::label(lab, "当年贫困线"),
        Cell::value(half, format!("{}元", yuan(s.income_line))),
        Cell::label(lab, "比较"),
        Cell::value(half, versus),
    ]));

    b.extend(heading("三、“一超两不愁三保障”及安全饮水认定"));
    let cols = [36.0 * MM, 52.0 * MM, 18.0 * MM];
    let reason_w = width - cols.iter().sum::<f32>();
    b.push(row(vec![
        Cell::label(cols[0], "认定内容").bold(),
        Cell::label(cols[1], "认定依据").bold(),
        Cell::label(cols[2], "认定结果").bold(),
        Cell::label(reason_w, "说明").bold(),
    ]));
    for check in &s.checks {
        let data = check
            .data
            .iter()
            .map(|d| format!("{}：{}", d.label, d.value))
            .collect::<Vec<_>>()
            .join("；");
        let result = Cell::value(cols[2], check.status_label).centered();
        let result = if check.status == crate::exit::CheckStatus::Met {
            result
        } else {
            result.bold()
        };
        b.push(row(vec![
            Cell::label(cols[0], check.label),
            Cell::value(cols[1], data),
            result,
            Cell::value(reason_w, &check.reason),
        ]));
    }
    b.push(row(vec![
        Cell::label(cols[0], "综合认定").bold(),
        Cell::value(
            width - cols[0],
            if s.meets_standard {
                "达到脱贫标准"
            } else {
                "未达到脱贫标准"
            },
        )
        .bold(),
    ]));

    b.extend(heading("四、退出程序办理情况"));
    let cols = [30.0 * MM, 30.0 * MM, 45.0 * MM];
    let detail_w = width - cols.iter().sum::<f32>();
    b.push(row(vec![
        Cell::label(cols[0], "程序步骤").bold(),
        Cell::label(cols[1], "日期").bold(),
        Cell::label(cols[2], "参加人员").bold(),
        Cell::label(detail_w, "办理情况及签字").bold(),
    ]));
    if records.is_empty() {
        b.push(row(vec![
            Cell::value(width, "（尚未办理退出程序）").centered(),
        ]));
    }
    for r in records {
        b.push(row(vec![
            Cell::value(cols[0], record_step_label(r)).centered(),
            Cell::value(cols[1], r.step_date.map(date_zh).unwrap_or_default()).centered(),
            Cell::value(cols[2], &r.people),
            Cell::value(detail_w, record_details(r)),
        ]));
    }

    // The statement and the signatures stay together on one page.
    let sign_labels = [
        "户主签字",
        "帮扶责任人签字",
        "驻村工作队签字",
        "村两委签字（盖章）",
        "乡镇签字（盖章）",
    ];
    let statement = match (s.household_refused, s.income_per_capita) {
        (true, _) => format!(
            "该户户主对脱贫认定未签字认可，本表作为{}年度帮扶情况认定，由帮扶责任人、驻村工作队、村两委和乡镇签字确认。",
            s.year
        ),
        (false, Some(pc)) => format!(
            "经入户调查核实，该户{}年度人均纯收入{}元，{}当年贫困线{}元，{}“一超两不愁三保障”脱贫标准。以上情况属实，户主及帮扶各方签字确认。",
            s.year,
            yuan(pc),
            if pc > s.income_line {
                "高于"
            } else {
                "未超过"
            },
            yuan(s.income_line),
            if s.meets_standard {
                "达到"
            } else {
                "未达到"
            },
        ),
        (false, None) => format!(
            "经入户调查核实，该户{}年度{}“一超两不愁三保障”脱贫标准。以上情况属实，户主及帮扶各方签字确认。",
            s.year,
            if s.meets_standard {
                "达到"
            } else {
                "未达到"
            },
        ),
    };
    let statement_lines = lines(font, &statement, SIZE, Weight::Regular, Align::Left, width);
    let keep = (statement_lines.len() as f32 + 3.0) * SIZE * LINE_HEIGHT
        + sign_labels.len() as f32 * SIGN_ROW
        + 6.0 * MM;
    b.push(Block::KeepRoom(keep));
    b.push(Block::Gap(2.5 * MM));
    b.push(Block::Line {
        text: "五、认定意见及签字".into(),
        size: 11.5,
        weight: Weight::Bold,
        align: Align::Left,
    });
    b.push(Block::Gap(1.0 * MM));
    b.extend(statement_lines);
    b.push(Block::Gap(1.5 * MM));
    let sign_w = [38.0 * MM, 56.0 * MM];
    let blank_w = width - sign_w.iter().sum::<f32>();
    for label in sign_labels {
        b.push(Block::Row {
            row: RowLayout::new(
                font,
                vec![
                    Cell::label(sign_w[0], label),
                    Cell::value(blank_w, ""),
                    Cell::value(sign_w[1], DATE_BLANK).centered(),
                ],
                SIZE,
            ),
            min: SIGN_ROW,
        });
    }
    b
}
