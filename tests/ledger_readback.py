#!/usr/bin/env python3
"""Independent read-back of an exported ledger with openpyxl (not the Rust reader that wrote it).

Checks that identifiers (证件号码, 户编号, 联系电话, 银行卡号) are text cells, never numbers that
Excel would show as 1.23E+17; that amounts and counts are numbers; dates are dates; and that the
Chinese of the title and header survived intact.

    python3 tests/ledger_readback.py FILE.xlsx [FILE.xlsx ...]

Exits 0 when every check passes, 1 otherwise (each failure printed).
"""
import datetime
import re
import sys

import openpyxl

TEXT_HEADERS = {"证件号码", "户主证件号码", "户编号", "联系电话", "银行卡号"}
NUMBER_HEADERS = {"金额(元)", "工资性收入", "纯收入", "总收入", "家庭人口"}
DATE_HEADERS = {"走访日期", "开始日期", "结束日期"}
HEADER_ROW = 3
CJK = re.compile(r"[\u4e00-\u9fff]")


def check(path):
    failures = []
    book = openpyxl.load_workbook(path, read_only=True)
    for sheet in book.worksheets:
        rows = sheet.iter_rows(values_only=False)
        title_row = next(rows, ())
        title = title_row[0].value if title_row else None
        if not isinstance(title, str) or not CJK.search(title) or "\ufffd" in title:
            failures.append(f"{sheet.title}: title is not intact Chinese: {title!r}")
        next(rows, None)
        header = [c.value for c in next(rows, ())]
        if not {"户编号", "户主姓名"} <= set(header):
            failures.append(f"{sheet.title}: header lacks 户编号/户主姓名: {header!r}")
        checked = 0
        for row in rows:
            first = row[0].value
            if first == "合计":
                continue
            for name, cell in zip(header, row):
                value = cell.value
                if value is None or value == "":
                    continue
                if name in TEXT_HEADERS and not isinstance(value, str):
                    failures.append(f"{sheet.title}!{cell.coordinate} {name}: {type(value).__name__} {value!r}, want text")
                if name in TEXT_HEADERS and isinstance(value, str) and "E+" in value:
                    failures.append(f"{sheet.title}!{cell.coordinate} {name}: scientific notation {value!r}")
                if name in NUMBER_HEADERS and not isinstance(value, (int, float)):
                    failures.append(f"{sheet.title}!{cell.coordinate} {name}: {value!r}, want a number")
                if name in DATE_HEADERS and not isinstance(value, datetime.datetime):
                    failures.append(f"{sheet.title}!{cell.coordinate} {name}: {value!r}, want a date")
                if isinstance(value, str) and "\ufffd" in value:
                    failures.append(f"{sheet.title}!{cell.coordinate}: broken characters in {value!r}")
                checked += 1
        print(f"{path} [{sheet.title}]: {checked} cells checked")
    return failures


def main(paths):
    if not paths:
        print(__doc__)
        return 2
    failures = []
    for path in paths:
        failures.extend(check(path))
    for f in failures[:50]:
        print("FAIL", f)
    if failures:
        print(f"{len(failures)} failures")
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
