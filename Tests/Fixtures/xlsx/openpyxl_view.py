#!/usr/bin/python3
"""Prints, as JSON, what openpyxl (a reader nobody on the project wrote) sees in workbooks:
per sheet its state, frozen pane, filter, data validations, and every cell's value, type,
number format, fill colour and comment. Used by Tests/NTMSpreadsheetTests/ThirdPartyTests.swift.

Usage: /usr/bin/python3 openpyxl_view.py FILE.xlsx...
"""
import datetime
import json
import sys

import openpyxl


def cell_json(cell):
    value = cell.value
    if isinstance(value, (datetime.datetime, datetime.date)):
        value = value.isoformat()
    fill = cell.fill.fgColor.rgb if cell.fill is not None and cell.fill.fill_type == "solid" else None
    return {
        "value": value,
        "type": type(cell.value).__name__,
        "format": cell.number_format,
        "fill": fill if isinstance(fill, str) else None,
        "comment": cell.comment.text if cell.comment else None,
    }


def sheet_json(sheet):
    return {
        "state": sheet.sheet_state,
        "freeze": sheet.freeze_panes,
        "filter": sheet.auto_filter.ref,
        "validations": [{"range": str(v.sqref), "list": v.formula1} for v in sheet.data_validations.dataValidation],
        "widths": {key: dim.width for key, dim in sheet.column_dimensions.items()},
        "cells": {cell.coordinate: cell_json(cell) for row in sheet.iter_rows() for cell in row if cell.value is not None
                  or cell.comment is not None},
    }


def main():
    result = {}
    for path in sys.argv[1:]:
        book = openpyxl.load_workbook(path)
        result[path] = {"sheets": book.sheetnames, "content": {s.title: sheet_json(s) for s in book.worksheets}}
    json.dump(result, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
