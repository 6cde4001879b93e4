//! Value-list checks: a coded field holds a code of its list, a multi-value field distinct codes.

use crate::model::FieldSpec;
use crate::model::codes::CodeList;

use super::Issue;

/// Checks one coded field's stored text. Empty means "not filled", which is not an issue here:
/// whether the field is required is the entity's business.
pub(super) fn check(spec: &FieldSpec, list: &CodeList, text: &str) -> Vec<Issue> {
    if text.is_empty() {
        return Vec::new();
    }
    let mut issues = Vec::new();
    if !spec.multi {
        if !list.contains(text) {
            issues.push(unknown(spec, text));
        }
        return issues;
    }
    let mut seen: Vec<&str> = Vec::new();
    for part in text.split(',') {
        if part.is_empty() {
            // "2,,4" or a trailing comma: the joined form is broken, whatever the codes are.
            issues.push(Issue::error(
                spec.name,
                "code.empty_part",
                format!("{} {text} 中有空的选项（多余的逗号）", spec.label),
            ));
        } else if !list.contains(part) {
            issues.push(unknown(spec, part));
        } else if seen.contains(&part) {
            let shown = list.label(part).unwrap_or(part);
            issues.push(Issue::error(
                spec.name,
                "code.duplicate",
                format!("{} 中“{shown}”重复选择", spec.label),
            ));
        } else {
            seen.push(part);
        }
    }
    issues
}

fn unknown(spec: &FieldSpec, code: &str) -> Issue {
    Issue::error(
        spec.name,
        "code.unknown",
        format!(
            "{} {code} 不在“{}”值列表中",
            spec.label,
            spec.codes.map_or("", |l| l.title)
        ),
    )
}

/// The codes of a filled multi-value field, in stored order; empty parts are skipped because
/// [`check`] already reports them.
pub(super) fn split(text: &str) -> impl Iterator<Item = &str> {
    text.split(',').filter(|p| !p.is_empty())
}
