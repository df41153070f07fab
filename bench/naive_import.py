#!/usr/bin/env python3
"""The baseline a hurried developer would write instead of Intake: read the whole json array
into memory, then insert every person as one flat row of text in a single transaction. No
conversion, no versions, no per-record results, no resume: the floor for "just put it in a
database". Standard library only.

  bench/naive_import.py people.json people.sqlite
"""
import json
import sqlite3
import sys

FIELDS = ("id", "title", "first", "middle", "last", "email", "phone", "job_title",
          "department_code", "start_date", "url", "notes")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip())
    with open(sys.argv[1], encoding="utf-8") as source:
        everyone = json.load(source)
    database = sqlite3.connect(sys.argv[2])
    database.execute("CREATE TABLE IF NOT EXISTS person (%s, projects TEXT)" % ", ".join("%s TEXT" % f for f in FIELDS))
    placeholders = ", ".join("?" for _ in range(len(FIELDS) + 1))
    with database:
        database.executemany("INSERT INTO person VALUES (%s)" % placeholders,
                             ([person[f] for f in FIELDS] + [json.dumps(person["projects"], ensure_ascii=False)]
                              for person in everyone))
    database.close()
    print("%d people inserted into %s" % (len(everyone), sys.argv[2]), file=sys.stderr)


if __name__ == "__main__":
    main()
