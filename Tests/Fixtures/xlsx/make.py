#!/usr/bin/python3
"""Makes the workbooks under Tests/Fixtures/xlsx with tools nobody on the project wrote:
openpyxl (Debian's python3-openpyxl) and LibreOffice (libreoffice-calc-nogui).

Run from the repository's root:  /usr/bin/python3 Tests/Fixtures/xlsx/make.py
The outputs are committed; run this again only to change them.
"""
import datetime
import os
import shutil
import subprocess
import tempfile

import openpyxl
from openpyxl.utils.datetime import CALENDAR_MAC_1904

HERE = os.path.dirname(os.path.abspath(__file__))

UNITS = [
    ("49", "Quảng Nam", "province", None, None),
    ("502", "Đại Lộc", "district", "49", "plains"),
    ("20107", "Đại Chánh", "commune", "502", "mountain"),
    ("20108", "Đại Tân", "commune", "502", "plains"),
]
SURVEYS = [
    ("KS-DC-2024", "Đại Chánh", datetime.date(2024, 9, 20), "ntm_results", 40, 37),
    ("KS-DT-2024", "20108", datetime.date(2024, 2, 29), "admin_procedures", 120, 101),
]
SURVEY_HEADERS = ["Mã khảo sát", "Xã", "Ngày khảo sát", "Loại khảo sát", "Số người được hỏi", "Số người hài lòng"]


def titled_surveys(sheet):
    """Two merged title rows above the header, as offices send them."""
    sheet["A1"] = "UBND TỈNH QUẢNG NAM — KẾT QUẢ KHẢO SÁT SỰ HÀI LÒNG CỦA NGƯỜI DÂN"
    sheet.merge_cells("A1:F1")
    sheet["A2"] = "(Kèm theo Báo cáo số 12/BC-VPĐP ngày 30/9/2024)"
    sheet.merge_cells("A2:F2")
    sheet.append(SURVEY_HEADERS)
    for row in SURVEYS:
        sheet.append(list(row))
    for row in sheet.iter_rows(min_row=4, min_col=3, max_col=3):
        row[0].number_format = "dd/mm/yyyy"


def workbook():
    """Units and surveys, a hidden sheet that must be ignored, and a trailing empty row."""
    book = openpyxl.Workbook()
    units = book.active
    units.title = "Đơn vị"
    units.append(["Mã", "Tên", "Cấp", "Cấp trên", "Vùng"])
    for unit in UNITS:
        units.append(list(unit))
    titled_surveys(book.create_sheet("Khảo sát"))
    hidden = book.create_sheet("Nháp")
    hidden.append(["không phải dữ liệu nhập"])
    hidden.sheet_state = "hidden"
    return book


def types():
    """One cell of each kind openpyxl writes, for the reader's own test."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Kiểu"
    sheet.append(["chữ", "số nguyên", "số thực", "đúng sai", "ngày", "ngày giờ", "công thức"])
    sheet.append(["Tiếng Việt có dấu", 1500000000, 92.5, True,
                  datetime.date(1900, 3, 1), datetime.datetime(2024, 2, 29, 16, 30), "=B2*2"])
    sheet["E2"].number_format = "dd/mm/yyyy"
    sheet["F2"].number_format = "dd/mm/yyyy hh:mm"
    return book


def book1904():
    book = openpyxl.Workbook()
    book.epoch = CALENDAR_MAC_1904
    sheet = book.active
    sheet.title = "1904"
    sheet.append(["ngày"])
    sheet.append([datetime.date(2024, 9, 20)])
    sheet["A2"].number_format = "yyyy-mm-dd"
    return book


def formula_surveys():
    """Surveys whose satisfied count is a formula openpyxl leaves uncalculated."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Khảo sát"
    sheet.append(SURVEY_HEADERS)
    sheet.append(["KS-DC-2024", "Đại Chánh", datetime.date(2024, 9, 20), "ntm_results", 40, "=E2*0.9"])
    return book


def save_with_libreoffice(book, name):
    """LibreOffice opens the openpyxl workbook and saves it as its own .xlsx, HERE/name."""
    with tempfile.TemporaryDirectory() as scratch:
        source = os.path.join(scratch, name)
        book.save(source)
        output = os.path.join(scratch, "out")
        subprocess.run(["soffice", f"-env:UserInstallation=file://{scratch}/profile", "--headless",
                        "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", output, source],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
        shutil.copy(os.path.join(output, name), os.path.join(HERE, name))


def main():
    workbook().save(os.path.join(HERE, "openpyxl-workbook.xlsx"))
    types().save(os.path.join(HERE, "openpyxl-types.xlsx"))
    book1904().save(os.path.join(HERE, "openpyxl-1904.xlsx"))
    formula_surveys().save(os.path.join(HERE, "openpyxl-formula.xlsx"))

    # The workbook with the merged title rows, as LibreOffice saves it.
    book = workbook()
    del book["Nháp"]
    save_with_libreoffice(book, "libreoffice-surveys.xlsx")


if __name__ == "__main__":
    main()
