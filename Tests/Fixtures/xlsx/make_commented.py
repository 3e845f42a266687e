#!/usr/bin/python3
"""Makes the workbooks whose sheets already carry comments (with their legacy VML drawings), on
which `ntmwatch import --errors` must add its own comments beside the user's:
openpyxl-commented.xlsx (written by openpyxl) and libreoffice-commented.xlsx (the same workbook
opened and saved by LibreOffice, which writes its own comments and drawing parts).

Run from the repository's root:  /usr/bin/python3 Tests/Fixtures/xlsx/make_commented.py
The outputs are committed; run this again only to change them.
"""
import os
import sys

from openpyxl.comments import Comment

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make  # noqa: E402  (the shared workbook of the other fixtures)

HERE = os.path.dirname(os.path.abspath(__file__))


def commented():
    """The units and surveys workbook with the office's own notes on three cells of two sheets."""
    book = make.workbook()
    del book["Nháp"]
    book["Đơn vị"]["B3"].comment = Comment("Tên cũ: huyện Đại Lộc (trước 2025)", "Chuyên viên VPĐP")
    surveys = book["Khảo sát"]
    surveys["A1"].comment = Comment("Số liệu do xã gửi, chưa thẩm định", "Chuyên viên VPĐP")
    surveys["F5"].comment = Comment("Xã báo cáo lại ngày 02/10/2024", "Trưởng phòng")
    return book


def main():
    commented().save(os.path.join(HERE, "openpyxl-commented.xlsx"))
    make.save_with_libreoffice(commented(), "libreoffice-commented.xlsx")


if __name__ == "__main__":
    main()
