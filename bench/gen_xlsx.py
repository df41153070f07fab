#!/usr/bin/env python3
"""Converts a CSV file (e.g. from gen_people.py) into an .xlsx workbook, streaming.

Every text cell goes through the shared string table, as Excel writes it, without de-duplicating
(the format allows it, and it keeps this script's memory flat), so the table grows with the file:
the worst case for a reader. Usage: gen_xlsx.py INPUT.csv OUTPUT.xlsx
"""
import csv, os, sys, tempfile, zipfile
from xml.sax.saxutils import escape


def column(i):
    name = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        name = chr(65 + r) + name
    return name


def main(src, dst):
    work = tempfile.mkdtemp()
    sheet_path, strings_path = os.path.join(work, "sheet1.xml"), os.path.join(work, "sharedStrings.xml")
    count = 0
    with open(src, newline="", encoding="utf-8") as f, open(sheet_path, "w", encoding="utf-8") as sheet, \
            open(strings_path, "w", encoding="utf-8") as strings:
        sheet.write('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
        strings.write('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                      '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
        for r, row in enumerate(csv.reader(f), start=1):
            cells = []
            for c, value in enumerate(row):
                if value == "":
                    continue
                strings.write("<si><t>%s</t></si>" % escape(value))
                cells.append('<c r="%s%d" t="s"><v>%d</v></c>' % (column(c), r, count))
                count += 1
            sheet.write('<row r="%d">%s</row>\n' % (r, "".join(cells)))
        sheet.write("</sheetData></worksheet>")
        strings.write("</sst>")
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        z.writestr("xl/workbook.xml", '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                   'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
                   '<sheet name="People" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
                   '</Relationships>')
        z.write(strings_path, "xl/sharedStrings.xml")
        z.write(sheet_path, "xl/worksheets/sheet1.xml")
    os.remove(sheet_path)
    os.remove(strings_path)
    os.rmdir(work)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
