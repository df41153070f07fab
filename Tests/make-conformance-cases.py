#!/usr/bin/env python3
"""Writes Tests/Conformance/ from the case table below (it replaces the folder).

Each expectation here was derived by hand from docs/control-files.md and docs/schema.md; edit the table,
then run this script and `swift test --filter ConformanceTests`."""
import json, os, shutil
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'Conformance')

def ctl(model, instructions, files=None, mapping=None):
    c = {"dataImportControlFileVersion": 0, "model": model,
         "files": files or {"data0": {"read": "json"}}, "instructions": instructions}
    if mapping: c["mapping"] = mapping
    return c

def text(t, typ="text", q=None):
    v = {"type": typ, "text": t}
    if q: v["qualifier"] = q
    return v
def name(**kw): return dict({"type": "person-name"}, **kw)
def otype(code): return {"type": "object-type", "code": code}
def ref(r): return {"type": "ref", "ref": r}
def obj(r, typ, title, attrs, version=1):
    return {"ref": r, "type": typ, "title": title, "version": version, "attributes": attrs}

cases = {}
def case(name, control, inputs, log, objects, schema=None, status=None, before=None, mode=None):
    cases[name] = dict(control=control, inputs=inputs, log=log, objects=objects, schema=schema, status=status, before=before, mode=mode)

NEW = {"action": "new", "destination": "profile"}
def nm(src, part): return {"source": src, "destination": "value:person-name", "name": part}
FS = {"action": "field-structured", "structured": "value:person-name", "destination": "profile", "name": "dc:attribute:title"}
STAFF = {"action": "set-value", "destination": "profile", "name": "dc:attribute:type", "value": "std:type:person:staff"}
def f(src, name_, dest="profile", **kw): return dict({"source": src, "destination": dest, "name": name_}, **kw)
LOAD = [f("ref", "ref", "load:by-ref", filters=["haplo:string-to-ref"]),
        {"action": "load", "destination": "profile", "using": "load:by-ref", "otherwise": [NEW]}]
P = "std:type:person"; S = "std:type:person:staff"

case("person-new-with-structured-name",
     ctl("haplo:person", [NEW, STAFF, nm("first", "first"), nm("last", "last"), FS, f("email", "std:attribute:email")]),
     {"data0.json": [{"first": "Joe", "last": "Bloggs", "email": "joe@example.org"}]},
     [], [obj("8000", S, "Joe Bloggs", {"dc:attribute:type": [otype(S)], "dc:attribute:title": [name(first="Joe", last="Bloggs")],
                                         "std:attribute:email": [text("joe@example.org", "email-address")]})],
     status={"state": "complete", "recordsApplied": 1, "errors": 0})

case("multivalue-appends",
     ctl("haplo:person", [NEW, nm("last", "last"), FS, f("e1", "std:attribute:email", multivalue=True), f("e2", "std:attribute:email", multivalue=True)]),
     {"data0.json": [{"last": "A", "e1": "a@x.org", "e2": "b@x.org"}]},
     [], [obj("8000", P, "A", {"dc:attribute:title": [name(last="A")], "std:attribute:email": [text("a@x.org", "email-address"), text("b@x.org", "email-address")],
                               "dc:attribute:type": [otype(P)]})])

case("single-value-replaces",
     ctl("haplo:person", [NEW, nm("last", "last"), FS, f("j1", "std:attribute:job-title"), f("j2", "std:attribute:job-title")]),
     {"data0.json": [{"last": "A", "j1": "Lecturer", "j2": "Professor"}, {"last": "B", "j1": "Reader"}]},
     [], [obj("8000", P, "A", {"dc:attribute:title": [name(last="A")], "std:attribute:job-title": [text("Professor")], "dc:attribute:type": [otype(P)]}),
          obj("8001", P, "B", {"dc:attribute:title": [name(last="B")], "std:attribute:job-title": [text("Reader")], "dc:attribute:type": [otype(P)]})])

case("qualifier-narrows-replacement",
     ctl("haplo:person", [NEW, nm("last", "last"), FS,
                          f("work", "std:attribute:email", qualifier="std:qualifier:work"),
                          f("home", "std:attribute:email", qualifier="std:qualifier:home", multivalue=True),
                          f("work2", "std:attribute:email", qualifier="std:qualifier:work")]),
     {"data0.json": [{"last": "Q", "work": "w1@x.org", "home": "h@x.org", "work2": "w2@x.org"}]},
     [], [obj("8000", P, "Q", {"dc:attribute:title": [name(last="Q")],
                               "std:attribute:email": [text("h@x.org", "email-address", "std:qualifier:home"), text("w2@x.org", "email-address", "std:qualifier:work")],
                               "dc:attribute:type": [otype(P)]})])

case("missing-and-empty-values",
     ctl("TYPE:std:type:book", [{"action": "new", "destination": "object"}, f("t", "dc:attribute:title", "object"),
                                f("a", "std:attribute:notes", "object", multivalue=True), f("b", "std:attribute:notes", "object", multivalue=True),
                                f("c", "std:attribute:notes", "object", multivalue=True), f("d", "std:attribute:notes", "object", multivalue=True),
                                f("z", "std:attribute:isbn", "object", multivalue=True), f("zs", "std:attribute:isbn", "object", multivalue=True),
                                f("nope", "std:attribute:notes", "object", multivalue=True)]),
     {"data0.json": [{"t": 0, "a": None, "b": "", "c": False, "d": "Kept", "z": 0, "zs": "0"}]},
     [], [obj("8000", "std:type:book", "0", {"dc:attribute:title": [text("0")], "std:attribute:notes": [text("Kept", "text-paragraph")],
                                             "std:attribute:isbn": [text("0", "isbn")], "dc:attribute:type": [otype("std:type:book")]})])

case("abort-record-commits-nothing",
     ctl("haplo:person", [NEW, nm("last", "last"), FS,
                          {"action": "if-value-one-of", "source": "role", "values": ["BAD"], "then": [{"action": "abort-record", "message": "Bad role"}]},
                          {"action": "log-error", "message": "after"}]),
     {"data0.json": [{"last": "Good", "role": "OK"}, {"last": "Bad", "role": "BAD"}]},
     ["after (record 0)", "Bad role (record 1)", "after (record 1)"],
     [obj("8000", P, "Good", {"dc:attribute:title": [name(last="Good")], "dc:attribute:type": [otype(P)]})],
     status={"state": "complete", "recordsApplied": 1, "recordsFailed": 1, "errors": 3})

BEFORE_PERSON = dict(control=ctl("haplo:person", [NEW, nm("last", "last"), FS, f("job", "std:attribute:job-title"), f("user", "std:attribute:username")]),
                     inputs={"data0.json": [{"last": "Existing", "job": "Lecturer", "user": "exist"}]})

case("load-or-create",
     ctl("haplo:person", LOAD + [f("job", "std:attribute:job-title"), {"action": "if-exists", "source": "last", "then": [nm("last", "last"), FS]}]),
     {"data0.json": [{"ref": "8000", "job": "Professor"}, {"ref": "9999", "last": "New", "job": "Reader"}]},
     [], [obj("8000", P, "Existing", {"dc:attribute:title": [name(last="Existing")], "std:attribute:job-title": [text("Professor")],
                                      "std:attribute:username": [text("exist")], "dc:attribute:type": [otype(P)]}, version=2),
          obj("8001", P, "New", {"std:attribute:job-title": [text("Reader")], "dc:attribute:title": [name(last="New")], "dc:attribute:type": [otype(P)]})],
     before=BEFORE_PERSON)

case("load-without-otherwise-aborts",
     ctl("haplo:person", [LOAD[0], {"action": "load", "destination": "profile", "using": "load:by-ref"}, f("job", "std:attribute:job-title")]),
     {"data0.json": [{"ref": "9999", "job": "X"}, {"job": "Y"}]},
     ["Couldn't load destination: profile (record 0)",
      'Destination "profile" needs be made ready with a "new" or "load" instruction (record 0)',
      "Couldn't load destination: profile (record 1)",
      'Destination "profile" needs be made ready with a "new" or "load" instruction (record 1)'],
     [], status={"recordsFailed": 2})

case("unchanged-objects-not-resaved",
     ctl("haplo:person", LOAD + [f("job", "std:attribute:job-title")]),
     {"data0.json": [{"ref": "8000", "job": "Lecturer"}]},
     [], [obj("8000", P, "Existing", {"dc:attribute:title": [name(last="Existing")], "std:attribute:job-title": [text("Lecturer")],
                                      "std:attribute:username": [text("exist")], "dc:attribute:type": [otype(P)]}, version=1)],
     before=BEFORE_PERSON, status={"recordsApplied": 1, "recordsUnchanged": 1})

BOOKS_SCHEMA = {
    "attributes": [{"code": "test:attribute:book-author", "name": "Author", "dataType": "link", "linkedTypes": ["std:type:person"]}],
    "types": [{"code": "test:type:book", "name": "Book", "annotations": ["test:annotation:publication"],
               "attributes": ["dc:attribute:title", "dc:attribute:type", "test:attribute:book-author", "std:attribute:notes"]},
              {"code": "test:type:book:novel", "name": "Novel", "parent": "test:type:book"}],
    "models": [{"name": "test:books", "description": "People and their books", "destinations": [
        {"name": "person", "kind": "object", "objectType": "std:type:person"},
        {"name": "book", "kind": "object", "objectType": "test:type:book", "depends": "person",
         "objectDependsWithAttribute": "test:attribute:book-author", "optional": True}]}]}
NEWP = {"action": "new", "destination": "person"}
def bn(src, dest="person"): return f(src, "dc:attribute:title", dest)
B = "test:type:book"

case("dependent-new-object-created-and-linked",
     ctl("test:books", [NEWP, bn("name"), bn("book", "book")]),
     {"data0.json": [{"name": "Author One", "book": "First Book"}, {"name": "No Books"}]},
     [], [obj("8000", P, "Author One", {"dc:attribute:title": [text("Author One")], "dc:attribute:type": [otype(P)]}),
          obj("8001", B, "First Book", {"dc:attribute:title": [text("First Book")], "dc:attribute:type": [otype(B)], "test:attribute:book-author": [ref("8000")]}),
          obj("8002", P, "No Books", {"dc:attribute:title": [text("No Books")], "dc:attribute:type": [otype(P)]})],
     schema=BOOKS_SCHEMA)

case("dependent-existing-object-updated",
     ctl("test:books", [f("ref", "ref", "load:by-ref", filters=["haplo:string-to-ref"]), {"action": "load", "destination": "person", "using": "load:by-ref"},
                        f("notes", "std:attribute:notes", "book")]),
     {"data0.json": [{"ref": "8000", "notes": "Second edition"}]},
     [], [obj("8000", P, "Author One", {"dc:attribute:title": [text("Author One")], "dc:attribute:type": [otype(P)]}),
          obj("8001", B, "First Book", {"dc:attribute:title": [text("First Book")], "dc:attribute:type": [otype(B)], "test:attribute:book-author": [ref("8000")],
                                        "std:attribute:notes": [text("Second edition", "text-paragraph")]}, version=2)],
     schema=BOOKS_SCHEMA,
     before=dict(control=ctl("test:books", [NEWP, bn("name"), bn("book", "book")]), inputs={"data0.json": [{"name": "Author One", "book": "First Book"}]}))

case("for-each-new-dependent-objects",
     ctl("test:books", [NEWP, bn("name"), {"action": "for-each", "source": "books", "instructions": [{"action": "new", "destination": "book"}, bn("title", "book")]}]),
     {"data0.json": [{"name": "Prolific", "books": [{"title": "B1"}, {"title": "B2"}]}]},
     [], [obj("8000", P, "Prolific", {"dc:attribute:title": [text("Prolific")], "dc:attribute:type": [otype(P)]}),
          obj("8001", B, "B1", {"dc:attribute:title": [text("B1")], "dc:attribute:type": [otype(B)], "test:attribute:book-author": [ref("8000")]}),
          obj("8002", B, "B2", {"dc:attribute:title": [text("B2")], "dc:attribute:type": [otype(B)], "test:attribute:book-author": [ref("8000")]})],
     schema=BOOKS_SCHEMA)

LIST_SCHEMA = {"types": [{"code": "test:type:mode", "name": "Mode", "parent": "std:type:list"}],
               "objects": [{"type": "test:type:mode", "title": "Full time", "behaviour": "test:list:mode:full"},
                           {"type": "test:type:mode", "title": "Part time", "behaviour": "test:list:mode:part"}]}
MODE_OBJ = [obj("8000", "test:type:mode", "Full time", {"dc:attribute:title": [text("Full time")], "dc:attribute:type": [otype("test:type:mode")],
                                                        "std:attribute:configured-behaviour": [text("test:list:mode:full", "configuration-name")]}),
            obj("8001", "test:type:mode", "Part time", {"dc:attribute:title": [text("Part time")], "dc:attribute:type": [otype("test:type:mode")],
                                                        "std:attribute:configured-behaviour": [text("test:list:mode:part", "configuration-name")]})]
case("ref-mapping-by-behaviour",
     ctl("TYPE:std:type:project", [{"action": "new", "destination": "object"}, f("t", "dc:attribute:title", "object"),
                                   f("mode", "dc:attribute:subject", "object", refMapping="mode")],
         mapping={"mode": {"types": ["test:type:mode"], "using": "behaviour", "values": {"FT": "test:list:mode:full", "PT": "test:list:mode:part"}}}),
     {"data0.json": [{"t": "P1", "mode": "PT"}, {"t": "P2", "mode": "XX"}]},
     ["Value in input data cannot be mapped for input field mode: XX (record 1)"],
     MODE_OBJ + [obj("8002", "std:type:project", "P1", {"dc:attribute:title": [text("P1")], "dc:attribute:subject": [ref("8001")], "dc:attribute:type": [otype("std:type:project")]}),
                 obj("8003", "std:type:project", "P2", {"dc:attribute:title": [text("P2")], "dc:attribute:type": [otype("std:type:project")]})],
     schema=LIST_SCHEMA)

case("ref-mapping-by-title",
     ctl("TYPE:std:type:project", [{"action": "new", "destination": "object"}, f("t", "dc:attribute:title", "object"),
                                   f("mode", "dc:attribute:subject", "object", refMapping="mode")],
         mapping={"mode": {"types": ["std:type:list", "test:type:nope"], "using": "title", "values": {"FT": "Full time", "GONE": "Retired"}}}),
     {"data0.json": [{"t": "P1", "mode": "FT"}, {"t": "P2", "mode": "UNMAPPED"}, {"t": "P3", "mode": "GONE"}]},
     ["Mapping mode refers to unknown type test:type:nope", "Value in input data cannot be mapped for input field mode: GONE (record 2)"],
     MODE_OBJ + [obj("8002", "std:type:project", "P1", {"dc:attribute:title": [text("P1")], "dc:attribute:subject": [ref("8000")], "dc:attribute:type": [otype("std:type:project")]}),
                 obj("8003", "std:type:project", "P2", {"dc:attribute:title": [text("P2")], "dc:attribute:type": [otype("std:type:project")]}),
                 obj("8004", "std:type:project", "P3", {"dc:attribute:title": [text("P3")], "dc:attribute:type": [otype("std:type:project")]})],
     schema=LIST_SCHEMA)

case("person-name-from-record-object",
     ctl("haplo:person", [NEW, f("name", "dc:attribute:title")]),
     {"data0.json": [{"name": {"title": "Dr", "first": "Ann", "middle": "", "last": "Lee", "suffix": "PhD", "extra": "x"}}, {"name": {"first": "NoLast"}}]},
     ["dc:attribute:title is not set in object profile (record 1)",
      "To set defaults for dc:attribute:title, see example of if-has-value instruction at https://docs.haplo.org/import/control/instruction/if-has-value (record 1)"],
     [obj("8000", P, "Dr Ann Lee PhD", {"dc:attribute:title": [name(title="Dr", first="Ann", last="Lee", suffix="PhD")], "dc:attribute:type": [otype(P)]})])

PA = "value:postal-address"
case("postal-address-structured",
     ctl("haplo:person", [NEW, nm("last", "last"), FS, f("street", "street1", PA), f("city", "city", PA), f("country", "country", PA),
                          {"action": "field-structured", "structured": PA, "destination": "profile", "name": "std:attribute:address"}]),
     {"data0.json": [{"last": "A", "street": "1 High Street", "city": "New Town", "country": "GB"},
                     {"last": "B", "street": "2 Low Road", "country": "XX"},
                     {"last": "C", "city": "Nowhere"}]},
     ['Invalid postal address: {"street1":"2 Low Road","country":"XX"} (Postal addresses must use a recognised country) (record 1)',
      'Missing or invalid country code in postal address, must be two letter ISO code: {"city":"Nowhere"} (record 2)'],
     [obj("8000", P, "A", {"dc:attribute:title": [name(last="A")], "std:attribute:address": [{"type": "postal-address", "street1": "1 High Street", "city": "New Town", "country": "GB"}], "dc:attribute:type": [otype(P)]}),
      obj("8001", P, "B", {"dc:attribute:title": [name(last="B")], "dc:attribute:type": [otype(P)]}),
      obj("8002", P, "C", {"dc:attribute:title": [name(last="C")], "dc:attribute:type": [otype(P)]})])

case("if-value-one-of-strict-equality",
     ctl("haplo:person", [NEW, nm("last", "last"), FS,
                          {"action": "if-value-one-of", "source": "role", "values": ["1", "PHD"],
                           "then": [{"action": "set-value", "destination": "profile", "name": "dc:attribute:type", "value": "std:type:person:student"}],
                           "else": [STAFF]}]),
     {"data0.json": [{"last": "A", "role": "PHD"}, {"last": "B", "role": 1}, {"last": "C", "role": "1"}, {"last": "D"}]},
     [], [obj("8000", "std:type:person:student", "A", {"dc:attribute:title": [name(last="A")], "dc:attribute:type": [otype("std:type:person:student")]}),
          obj("8001", S, "B", {"dc:attribute:title": [name(last="B")], "dc:attribute:type": [otype(S)]}),
          obj("8002", "std:type:person:student", "C", {"dc:attribute:title": [name(last="C")], "dc:attribute:type": [otype("std:type:person:student")]}),
          obj("8003", S, "D", {"dc:attribute:title": [name(last="D")], "dc:attribute:type": [otype(S)]})])

case("within-and-if-exists",
     ctl("haplo:person", [NEW, {"action": "within", "source": "name", "instructions": [nm("f", "first"), nm("l", "last")]}, FS,
                          {"action": "if-exists", "source": "orcid", "else": [{"action": "log-error", "message": "No ORCID"}]}]),
     {"data0.json": [{"name": {"f": "Ann", "l": "Lee"}, "orcid": 0}, {"name": {"l": "Roe"}, "orcid": ""}]},
     ["No ORCID (record 1)"],
     [obj("8000", P, "Ann Lee", {"dc:attribute:title": [name(first="Ann", last="Lee")], "dc:attribute:type": [otype(P)]}),
      obj("8001", P, "Roe", {"dc:attribute:title": [name(last="Roe")], "dc:attribute:type": [otype(P)]})])

PRJ = "std:type:project"
case("datetime-formats",
     ctl("TYPE:std:type:project", [{"action": "new", "destination": "object"}, f("t", "dc:attribute:title", "object"),
                                   f("d", "dc:attribute:date", "object", dateFormat="yyyy-MM-dd", multivalue=True),
                                   f("dt", "dc:attribute:date", "object", dateFormat="dd/MM/yyyy HH:mm", multivalue=True)]),
     {"data0.json": [{"t": "A", "d": "2018-02-10", "dt": "23/09/2017 10:30"}, {"t": "B", "d": "10/02/2018", "dt": "31/02/2017 10:30"}]},
     ["Invalid date value for input field d: 10/02/2018 (record 1)", "Invalid date value for input field dt: 31/02/2017 10:30 (record 1)"],
     [obj("8000", PRJ, "A", {"dc:attribute:title": [text("A")], "dc:attribute:date": [{"type": "datetime", "value": "2018-02-10"}, {"type": "datetime", "value": "2017-09-23T10:30:00Z"}], "dc:attribute:type": [otype(PRJ)]}),
      obj("8001", PRJ, "B", {"dc:attribute:title": [text("B")], "dc:attribute:type": [otype(PRJ)]})])

GRADE_SCHEMA = {"attributes": [{"code": "test:attribute:grade", "name": "Grade", "dataType": "integer"}],
                "types": [{"code": "test:type:course", "name": "Course", "attributes": ["dc:attribute:title", "test:attribute:grade"]}]}
C = "test:type:course"
case("integer-with-input-mapping",
     ctl("TYPE:test:type:course", [{"action": "new", "destination": "object"}, f("t", "dc:attribute:title", "object"),
                                   f("g", "test:attribute:grade", "object", mapInputValue={"A": "1", "B": 2, "1": "10"}, mapInputValueDefault="007")]),
     {"data0.json": [{"t": "a", "g": "A"}, {"t": "b", "g": "B"}, {"t": "c", "g": 1}, {"t": "d", "g": "Z"}]},
     ["Invalid integer for input field g: 007 (record 3)"],
     [obj("8000", C, "a", {"dc:attribute:title": [text("a")], "test:attribute:grade": [{"type": "integer", "value": 1}], "dc:attribute:type": [otype(C)]}),
      obj("8001", C, "b", {"dc:attribute:title": [text("b")], "test:attribute:grade": [{"type": "integer", "value": 2}], "dc:attribute:type": [otype(C)]}),
      obj("8002", C, "c", {"dc:attribute:title": [text("c")], "test:attribute:grade": [{"type": "integer", "value": 10}], "dc:attribute:type": [otype(C)]}),
      obj("8003", C, "d", {"dc:attribute:title": [text("d")], "dc:attribute:type": [otype(C)]})],
     schema=GRADE_SCHEMA)

case("filters-in-order",
     ctl("haplo:person", [NEW, nm("last", "last"), FS, f("user", "std:attribute:username", filters=["haplo:to-upper-case", "haplo:to-lower-case"]),
                          f("url", "std:attribute:url", filters=["haplo:fix-up-url"], multivalue=True),
                          f("url2", "std:attribute:url", filters=["haplo:fix-up-url"], multivalue=True),
                          f("num", "std:attribute:job-title", filters=["haplo:to-string"])]),
     {"data0.json": [{"last": "F", "user": "MiXeD", "url": "example.org/ping", "url2": "www.example2.org", "num": 42}]},
     ["Invalid URL for input field url2: www.example2.org (record 0)"],
     [obj("8000", P, "F", {"dc:attribute:title": [name(last="F")], "std:attribute:username": [text("mixed")],
                           "std:attribute:url": [text("https://example.org/ping", "url")], "std:attribute:job-title": [text("42")], "dc:attribute:type": [otype(P)]})])

case("dry-run-commits-nothing",
     ctl("haplo:person", [NEW, nm("last", "last"), FS, f("email", "std:attribute:email")]),
     {"data0.json": [{"last": "A", "email": "bad"}, {"last": "B"}]},
     ["Invalid email address for input field email: bad (record 0)"], [], mode="dry-run",
     status={"state": "dry-run", "recordsRead": 2, "errors": 1})

case("record-numbers-run-across-files",
     ctl("haplo:person", [NEW, nm("last", "last"), FS, f("email", "std:attribute:email")], files={"a": {"read": "json"}, "b": {"read": "jsonl"}}),
     {"a.json": [{"last": "A", "email": "@a"}], "b.jsonl": None},
     ["Invalid email address for input field email: @a (record 0)", "Invalid email address for input field email: @b (record 2)"],
     [obj("8000", P, "A", {"dc:attribute:title": [name(last="A")], "dc:attribute:type": [otype(P)]}),
      obj("8001", P, "B", {"dc:attribute:title": [name(last="B")], "std:attribute:email": [text("b@x.org", "email-address")], "dc:attribute:type": [otype(P)]}),
      obj("8002", P, "C", {"dc:attribute:title": [name(last="C")], "dc:attribute:type": [otype(P)]})])

case("set-value-converted-once",
     ctl("haplo:person", [NEW, nm("last", "last"), FS, {"action": "set-value", "destination": "profile", "name": "std:attribute:email", "value": "not-an-email"},
                          {"action": "set-value", "destination": "profile", "name": "std:attribute:job-title", "value": ""}]),
     {"data0.json": [{"last": "A"}, {"last": "B"}]},
     ["Invalid email address for set value profile/std:attribute:email: not-an-email (record 0)"],
     [obj("8000", P, "A", {"dc:attribute:title": [name(last="A")], "std:attribute:job-title": [text("")], "dc:attribute:type": [otype(P)]}),
      obj("8001", P, "B", {"dc:attribute:title": [name(last="B")], "std:attribute:job-title": [text("")], "dc:attribute:type": [otype(P)]})])

case("remove-values",
     ctl("haplo:person", LOAD + [{"action": "remove-values", "destination": "profile", "name": "std:attribute:job-title"}]),
     {"data0.json": [{"ref": "8000"}]},
     [], [obj("8000", P, "Existing", {"dc:attribute:title": [name(last="Existing")], "std:attribute:username": [text("exist")], "dc:attribute:type": [otype(P)]}, version=2)],
     before=BEFORE_PERSON)

case("if-has-value-sets-a-default-title",
     ctl("TYPE:std:type:book", [{"action": "new", "destination": "object"}, f("t", "dc:attribute:title", "object"),
                                {"action": "if-has-value", "destination": "object", "name": "dc:attribute:title",
                                 "else": [{"action": "set-value", "destination": "object", "name": "dc:attribute:title", "value": "Untitled"}]}]),
     {"data0.json": [{"t": "Named"}, {}]},
     [], [obj("8000", "std:type:book", "Named", {"dc:attribute:title": [text("Named")], "dc:attribute:type": [otype("std:type:book")]}),
          obj("8001", "std:type:book", "Untitled", {"dc:attribute:title": [text("Untitled")], "dc:attribute:type": [otype("std:type:book")]})])

case("assert-destination-on-linked-objects",
     ctl("test:books", [NEWP, bn("name"), {"action": "assert-destination", "destination": "book", "exists": False}, bn("book", "book")]),
     {"data0.json": [{"name": "A", "book": "X"}]},
     ["assert-destination failed: book (record 0)"], [], schema=BOOKS_SCHEMA, status={"recordsFailed": 1})

case("username-to-ref-links-people",
     ctl("TYPE:std:type:book", [{"action": "new", "destination": "object"}, f("t", "dc:attribute:title", "object"),
                                f("author", "dc:attribute:author", "object", filters=["haplo:username-to-ref"]),
                                f("missing", "dc:attribute:author", "object", filters=["haplo:username-to-ref"], multivalue=True)]),
     {"data0.json": [{"t": "Book", "author": "EXIST", "missing": "nobody"}]},
     [], [obj("8000", P, "Existing", {"dc:attribute:title": [name(last="Existing")], "std:attribute:job-title": [text("Lecturer")],
                                      "std:attribute:username": [text("exist")], "dc:attribute:type": [otype(P)]}),
          obj("8001", "std:type:book", "Book", {"dc:attribute:title": [text("Book")], "dc:attribute:author": [ref("8000")], "dc:attribute:type": [otype("std:type:book")]})],
     before=BEFORE_PERSON)

case("tsv-reader",
     ctl("haplo:person", [NEW, nm("LAST", "last"), FS, f("JOB", "std:attribute:job-title")], files={"DEFAULT": {"read": "tsv-with-name-row"}}),
     {"data0.tsv": "LAST\tJOB\nSmith\tLecturer\nJones\t\n"},
     ["No data set in required destination profile (record 2)"] if False else ["dc:attribute:title is not set in object profile (record 2)",
      "To set defaults for dc:attribute:title, see example of if-has-value instruction at https://docs.haplo.org/import/control/instruction/if-has-value (record 2)"],
     [obj("8000", P, "Smith", {"dc:attribute:title": [name(last="Smith")], "std:attribute:job-title": [text("Lecturer")], "dc:attribute:type": [otype(P)]}),
      obj("8001", P, "Jones", {"dc:attribute:title": [name(last="Jones")], "dc:attribute:type": [otype(P)]})])

case("xml-reader",
     ctl("haplo:person", [NEW, nm("last", "last"), FS, f("job", "std:attribute:job-title")], files={"DEFAULT": {"read": "xml-text-of-children"}}),
     {"data0.xml": "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<people>\n <person><last>Łukasz</last><job> Reader </job></person>\n <person><last>東京</last><job/></person>\n</people>\n"},
     [], [obj("8000", P, "Łukasz", {"dc:attribute:title": [name(last="Łukasz")], "std:attribute:job-title": [text(" Reader ")], "dc:attribute:type": [otype(P)]}),
          obj("8001", P, "東京", {"dc:attribute:title": [name(last="東京")], "dc:attribute:type": [otype(P)]})])

case("csv-reader",
     ctl("haplo:person", [NEW, nm("last", "last"), FS, f("notes", "std:attribute:notes")], files={"DEFAULT": {"read": "csv"}}),
     {"data0.csv": "last,notes\r\n\"O'Brien, Jr\",\"Line one\n\nLine \"\"two\"\"\"\r\n"},
     [], [obj("8000", P, "O'Brien, Jr", {"dc:attribute:title": [name(last="O'Brien, Jr")], "std:attribute:notes": [text("Line one\n\nLine \"two\"", "text-paragraph")], "dc:attribute:type": [otype(P)]})])

case("malformed-input-is-fatal-before-import",
     ctl("haplo:person", [NEW, nm("last", "last"), FS], files={"a": {"read": "json"}, "b": {"read": "json"}}),
     {"a.json": [{"last": "A"}], "b.json": "[{\"last\": \"B\"},\n {\"last\" \"C\"}]"},
     ["EXCEPTION: Error during import: JSON syntax error in b at line 2, column 10: Expected ':' after object key. File: b, line: 2"],
     [], status={"state": "error", "recordsRead": 0, "errors": 1})


case("json-top-level-object-gives-its-values",
     ctl("haplo:person", [NEW, nm("last", "last"), FS]),
     {"data0.json": {"x": {"last": "First"}, "y": {"last": "Second"}}},
     [], [obj("8000", P, "First", {"dc:attribute:title": [name(last="First")], "dc:attribute:type": [otype(P)]}),
          obj("8001", P, "Second", {"dc:attribute:title": [name(last="Second")], "dc:attribute:type": [otype(P)]})])

case("json-single-record",
     ctl("haplo:person", [NEW, nm("last", "last"), FS, {"action": "for-each", "source": "emails", "wrapValues": True,
                          "instructions": [f("value", "std:attribute:email", multivalue=True)]}],
         files={"data0": {"read": "json", "singleRecord": True}}),
     {"data0.json": {"last": "Only", "emails": ["a@x.org", "b@x.org"]}},
     [], [obj("8000", P, "Only", {"dc:attribute:title": [name(last="Only")], "std:attribute:email": [text("a@x.org", "email-address"), text("b@x.org", "email-address")],
                                  "dc:attribute:type": [otype(P)]})])

case("xml-attributes-reader",
     ctl("haplo:person", [NEW, nm("hr:last", "last"), nm("last", "last"), FS, f("job", "std:attribute:job-title"), f("xmlns:hr", "std:attribute:notes")],
         files={"DEFAULT": {"read": "xml-attributes"}}),
     {"data0.xml": '<?xml version="1.0"?>\n<people xmlns:h="urn:h">\n <p xmlns:hr="urn:hr" hr:last="Ng" job="Reader"/>\n <p last="Roe"><ignored last="x"/></p>\n</people>\n'},
     [], [obj("8000", P, "Ng", {"dc:attribute:title": [name(last="Ng")], "std:attribute:job-title": [text("Reader")],
                                "std:attribute:notes": [text("urn:hr", "text-paragraph")], "dc:attribute:type": [otype(P)]}),
          obj("8001", P, "Roe", {"dc:attribute:title": [name(last="Roe")], "dc:attribute:type": [otype(P)]})])

FLAG_SCHEMA = {"attributes": [{"code": "test:attribute:flag", "name": "Flag", "dataType": "boolean"},
                              {"code": "test:attribute:score", "name": "Score", "dataType": "number"},
                              {"code": "test:attribute:extra", "name": "Extra", "dataType": "json"}],
               "types": [{"code": "test:type:item", "name": "Item", "attributes": ["dc:attribute:title", "test:attribute:flag", "test:attribute:score", "test:attribute:extra"]}]}
IT = "test:type:item"
case("boolean-number-and-json-types",
     ctl("TYPE:test:type:item", [{"action": "new", "destination": "object"}, f("t", "dc:attribute:title", "object"),
                                 f("flag", "test:attribute:flag", "object", trueValue="Y", falseValue="N"),
                                 f("score", "test:attribute:score", "object"), f("extra", "test:attribute:extra", "object")]),
     {"data0.json": [{"t": "a", "flag": "Y", "score": "12abc", "extra": {"k": [1, "two"]}},
                     {"t": "b", "flag": "N", "score": " -1.5e2x", "extra": "text"},
                     {"t": "c", "flag": "maybe", "score": "abc", "extra": [True]},
                     {"t": "d", "flag": True, "score": 7}]},
     ["Invalid boolean value for input field flag: maybe (record 2)", "Invalid number for input field score: abc (record 2)"],
     [obj("8000", IT, "a", {"dc:attribute:title": [text("a")], "test:attribute:flag": [{"type": "boolean", "value": True}],
                            "test:attribute:score": [{"type": "number", "value": 12}], "test:attribute:extra": [{"type": "json", "value": {"k": [1, "two"]}}],
                            "dc:attribute:type": [otype(IT)]}),
      obj("8001", IT, "b", {"dc:attribute:title": [text("b")], "test:attribute:flag": [{"type": "boolean", "value": False}],
                            "test:attribute:score": [{"type": "number", "value": -150}], "dc:attribute:type": [otype(IT)]}),
      obj("8002", IT, "c", {"dc:attribute:title": [text("c")], "test:attribute:extra": [{"type": "json", "value": [True]}], "dc:attribute:type": [otype(IT)]}),
      obj("8003", IT, "d", {"dc:attribute:title": [text("d")], "test:attribute:flag": [{"type": "boolean", "value": True}],
                            "test:attribute:score": [{"type": "number", "value": 7}], "dc:attribute:type": [otype(IT)]})],
     schema=FLAG_SCHEMA)

case("unknown-filter-in-otherwise-is-fatal",
     ctl("haplo:person", [{"action": "load", "destination": "profile", "using": "load:by-ref",
                           "otherwise": [NEW, f("x", "std:attribute:job-title", filters=["test:no-such-filter"])]}]),
     {"data0.json": [{"x": "y"}]},
     ["EXCEPTION: Error during import: no filter defined for name: test:no-such-filter. File: undefined, line: undefined"],
     [], status={"state": "error", "recordsRead": 0, "errors": 1})

CHECK_SCHEMA = {"models": [{"name": "test:checks", "destinations": [
    {"name": "profile", "kind": "object", "objectType": "std:type:person"},
    {"name": "book", "kind": "object", "objectType": "std:type:book", "depends": "profile", "objectDependsWithAttribute": "dc:attribute:author", "optional": True},
    {"name": "info", "kind": "dictionary", "optional": True, "dictionaryNames": {"two": {"type": "text", "required": True}, "one": {"type": "text", "required": True}}}]}]}
case("end-of-record-checks-in-model-order",
     ctl("test:checks", [{"action": "new", "destination": "profile"}, {"action": "new", "destination": "book"}, {"action": "new", "destination": "info"}]),
     {"data0.json": [{}]},
     ["dc:attribute:title is not set in object profile (record 0)",
      "To set defaults for dc:attribute:title, see example of if-has-value instruction at https://docs.haplo.org/import/control/instruction/if-has-value (record 0)",
      "dc:attribute:title is not set in object book (record 0)",
      "Missing values in info: one, two (record 0)"],
     [], schema=CHECK_SCHEMA, status={"recordsFailed": 1})

case("load-refuses-an-object-of-another-type",
     ctl("haplo:person", [LOAD[0], {"action": "load", "destination": "profile", "using": "load:by-ref"}]),
     {"data0.json": [{"ref": "8000"}]},
     ["Couldn't load destination: profile (record 0)"],
     [obj("8000", "std:type:book", "A book", {"dc:attribute:title": [text("A book")], "dc:attribute:type": [otype("std:type:book")]})],
     before=dict(control=ctl("TYPE:std:type:book", [{"action": "new", "destination": "object"}, f("t", "dc:attribute:title", "object")]),
                 inputs={"data0.json": [{"t": "A book"}]}))

case("code-to-ref-filter",
     ctl("TYPE:std:type:project", [{"action": "new", "destination": "object"}, f("t", "dc:attribute:title", "object"),
                                   f("mode", "dc:attribute:subject", "object", filters=["haplo:code-to-ref"], multivalue=True),
                                   f("other", "dc:attribute:subject", "object", filters=["haplo:code-to-ref"], multivalue=True)]),
     {"data0.json": [{"t": "P", "mode": "test:list:mode:part", "other": "test:list:mode:none"}]},
     [], MODE_OBJ + [obj("8002", PRJ, "P", {"dc:attribute:title": [text("P")], "dc:attribute:subject": [ref("8001")], "dc:attribute:type": [otype(PRJ)]})],
     schema=LIST_SCHEMA)

case("for-each-over-object-values-and-scalars",
     ctl("haplo:person", [NEW, nm("last", "last"), FS,
                          {"action": "for-each", "source": "byKind", "instructions": [f("address", "std:attribute:email", multivalue=True)]},
                          {"action": "for-each", "source": "scalar", "instructions": [{"action": "log-error", "message": "never"}]}]),
     {"data0.json": [{"last": "K", "byKind": {"work": {"address": "w@x.org"}, "home": {"address": "h@x.org"}}, "scalar": "abc"}]},
     [], [obj("8000", P, "K", {"dc:attribute:title": [name(last="K")], "std:attribute:email": [text("w@x.org", "email-address"), text("h@x.org", "email-address")],
                               "dc:attribute:type": [otype(P)]})])

case("mapping-never-matches-arrays-or-objects",
     ctl("haplo:person", [NEW, nm("last", "last"), FS,
                          f("job", "std:attribute:job-title", mapInputValue={"L": "Lecturer", "1,2": "Joined"}, mapInputValueDefault="Other"),
                          f("plain", "std:attribute:notes", mapInputValue={"x": None})]),
     {"data0.json": [{"last": "A", "job": ["1", "2"], "plain": "x"}, {"last": "B", "job": "L", "plain": "kept"}]},
     [], [obj("8000", P, "A", {"dc:attribute:title": [name(last="A")], "std:attribute:job-title": [text("Other")], "dc:attribute:type": [otype(P)]}),
          obj("8001", P, "B", {"dc:attribute:title": [name(last="B")], "std:attribute:job-title": [text("Lecturer")],
                               "std:attribute:notes": [text("kept", "text-paragraph")], "dc:attribute:type": [otype(P)]})])


def xlsx(rows, strings):
    """A minimal workbook, as Excel writes it: shared strings, one sheet, a date style."""
    import io, zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Staff" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
        z.writestr("xl/sharedStrings.xml", '<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' + "".join("<si><t>%s</t></si>" % t for t in strings) + "</sst>")
        z.writestr("xl/styles.xml", '<?xml version="1.0"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14"/></cellXfs></styleSheet>')
        z.writestr("xl/worksheets/sheet1.xml", '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>' + rows + "</sheetData></worksheet>")
    return buf.getvalue()

case("xlsx-reader",
     ctl("TYPE:std:type:project", [{"action": "new", "destination": "object"}, f("Title", "dc:attribute:title", "object"),
                                   f("Start", "dc:attribute:date", "object", dateFormat="yyyy-MM-dd")], files={"DEFAULT": {"read": "xlsx"}}),
     {"data0.xlsx": xlsx('<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
                         '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" s="1"><v>43141</v></c></row>'
                         '<row r="3"><c r="A3"><v>42</v></c></row>', ["Title", "Start", "Zoë's project"])},
     [], [obj("8000", PRJ, "Zoë's project", {"dc:attribute:title": [text("Zoë's project")], "dc:attribute:date": [{"type": "datetime", "value": "2018-02-10"}],
                                             "dc:attribute:type": [otype(PRJ)]}),
          obj("8001", PRJ, "42", {"dc:attribute:title": [text("42")], "dc:attribute:type": [otype(PRJ)]})])


case("record-locations-opt-in",
     dict(ctl("haplo:person", [NEW, nm("last", "last"), FS, f("email", "std:attribute:email")], files={"DEFAULT": {"read": "csv"}}),
          recordLocations=True),
     {"data0.csv": "last,email\nA,a@x.org\n\"B\nB\",@b\n"},
     ["Invalid email address for input field email: @b (record 1, input-data0.csv line 3)"],
     [obj("8000", P, "A", {"dc:attribute:title": [name(last="A")], "std:attribute:email": [text("a@x.org", "email-address")], "dc:attribute:type": [otype(P)]}),
      obj("8001", P, "B\nB", {"dc:attribute:title": [name(last="B\nB")], "dc:attribute:type": [otype(P)]})])

# ---- §9: revisions after reading the original's source
def date(v): return {"type": "datetime", "value": v}
case("dates-read-from-the-start-of-the-value",
     ctl("TYPE:std:type:project", [{"action": "new", "destination": "object"}, f("t", "dc:attribute:title", "object"),
                                   f("d", "dc:attribute:date", "object", dateFormat="yyyy-MM-dd", multivalue=True),
                                   f("dt", "dc:attribute:date", "object", dateFormat="yyyy-MM-dd HH:mm z", multivalue=True)]),
     {"data0.json": [{"t": "A", "d": "2018-02-10 12:00:00", "dt": "2018-02-10 09:00 EST and more"},
                     {"t": "B", "d": "2018-2-5", "dt": "2018-02-10 09:00 pdt"},
                     {"t": "C", "d": "2018-02-10T09:30", "dt": "2018-02-10 09:00 CET"},
                     {"t": "D", "d": "2018-13-01"}, {"t": "E", "d": "2017-02-30"}, {"t": "F", "d": "10/02/2018"}]},
     ["Invalid date value for input field dt: 2018-02-10 09:00 CET (record 2)",
      "Invalid date value for input field d: 2018-13-01 (record 3)",
      "Invalid date value for input field d: 2017-02-30 (record 4)",
      "Invalid date value for input field d: 10/02/2018 (record 5)"],
     [obj("8000", PRJ, "A", {"dc:attribute:title": [text("A")], "dc:attribute:date": [date("2018-02-10"), date("2018-02-10T14:00:00Z")], "dc:attribute:type": [otype(PRJ)]}),
      obj("8001", PRJ, "B", {"dc:attribute:title": [text("B")], "dc:attribute:date": [date("2018-02-05"), date("2018-02-10T16:00:00Z")], "dc:attribute:type": [otype(PRJ)]}),
      obj("8002", PRJ, "C", {"dc:attribute:title": [text("C")], "dc:attribute:date": [date("2018-02-10")], "dc:attribute:type": [otype(PRJ)]})]
     + [obj(r, PRJ, t, {"dc:attribute:title": [text(t)], "dc:attribute:type": [otype(PRJ)]}) for r, t in [("8003", "D"), ("8004", "E"), ("8005", "F")]])

def grade(v): return {"test:attribute:grade": [{"type": "integer", "value": v}]}
case("integers-exact-to-64-bits",
     ctl("TYPE:test:type:course", [{"action": "new", "destination": "object"}, f("t", "dc:attribute:title", "object"), f("g", "test:attribute:grade", "object")]),
     {"data0.json": [{"t": "a", "g": "9007199254740993"}, {"t": "b", "g": 9007199254740993}, {"t": "c", "g": "-9223372036854775808"},
                     {"t": "d", "g": "9223372036854775808"}, {"t": "e", "g": "007"}]},
     ["Invalid integer for input field g: 9223372036854775808 (record 3)", "Invalid integer for input field g: 007 (record 4)"],
     [obj("8000", C, "a", dict({"dc:attribute:title": [text("a")], "dc:attribute:type": [otype(C)]}, **grade(9007199254740993))),
      obj("8001", C, "b", dict({"dc:attribute:title": [text("b")], "dc:attribute:type": [otype(C)]}, **grade(9007199254740993))),
      obj("8002", C, "c", dict({"dc:attribute:title": [text("c")], "dc:attribute:type": [otype(C)]}, **grade(-9223372036854775808))),
      obj("8003", C, "d", {"dc:attribute:title": [text("d")], "dc:attribute:type": [otype(C)]}),
      obj("8004", C, "e", {"dc:attribute:title": [text("e")], "dc:attribute:type": [otype(C)]})],
     schema=GRADE_SCHEMA)

case("empty-and-null-qualifiers-are-unknown",
     ctl("haplo:person", [NEW, nm("last", "last"), FS, f("e1", "std:attribute:email", qualifier=""),
                          f("e2", "std:attribute:email", qualifier=None, multivalue=True)]),
     {"data0.json": [{"last": "Q", "e1": "a@x.org", "e2": "b@x.org"}]},
     ["Invalid qualifier '' in field profile/std:attribute:email", "Invalid qualifier 'null' in field profile/std:attribute:email"],
     [obj("8000", P, "Q", {"dc:attribute:title": [name(last="Q")],
                           "std:attribute:email": [text("a@x.org", "email-address"), text("b@x.org", "email-address")], "dc:attribute:type": [otype(P)]})])

case("if-has-value-prepares-its-nested-lists-first",
     ctl("haplo:person", [NEW, nm("last", "last"), FS,
                          {"action": "if-has-value", "destination": "profile", "name": "std:attribute:nope",
                           "then": [f("x", "std:attribute:nope2")],
                           "else": [{"action": "set-value", "destination": "nowhere", "name": "dc:attribute:title", "value": "x"}]}]),
     {"data0.json": [{"last": "A"}]},
     ["Unknown name in field std:attribute:nope2 for destination profile", "Unknown destination in set-value: nowhere",
      "Unknown name in if-has-value std:attribute:nope for destination profile"],
     [obj("8000", P, "A", {"dc:attribute:title": [name(last="A")], "dc:attribute:type": [otype(P)]})])

case("postal-address-refuses-unknown-keys",
     ctl("haplo:person", [NEW, nm("last", "last"), FS, f("address", "std:attribute:address")]),
     {"data0.json": [{"last": "A", "address": {"street1": "1 High Street", "city": "New Town", "country": "GB"}},
                     {"last": "B", "address": {"street1": "2 Low Road", "town": "Old Town", "flat": "3", "country": "GB"}},
                     {"last": "C", "address": {"town": "X"}}]},
     ["Invalid postal address: {\"street1\":\"2 Low Road\",\"town\":\"Old Town\",\"flat\":\"3\",\"country\":\"GB\"} "
      "(Invalid key 'town' in dictionary passed to O.text(O.T_IDENTIFIER_POSTAL_ADDRESS,...)) (record 1)",
      'Missing or invalid country code in postal address, must be two letter ISO code: {"town":"X"} (record 2)'],
     [obj("8000", P, "A", {"dc:attribute:title": [name(last="A")], "std:attribute:address": [{"type": "postal-address", "street1": "1 High Street", "city": "New Town", "country": "GB"}],
                           "dc:attribute:type": [otype(P)]}),
      obj("8001", P, "B", {"dc:attribute:title": [name(last="B")], "dc:attribute:type": [otype(P)]}),
      obj("8002", P, "C", {"dc:attribute:title": [name(last="C")], "dc:attribute:type": [otype(P)]})])

def tel(t, e164=None, ext=None):
    v = {"type": "telephone-number", "text": t}
    if e164: v["e164"] = e164
    if ext: v["extension"] = ext
    return v
case("telephone-numbers-grouped-per-country",
     ctl("haplo:person", [NEW, nm("last", "last"), FS, f("tel", "std:attribute:telephone", multivalue=True),
                          f("other", "std:attribute:telephone", country="US", multivalue=True)]),
     {"data0.json": [{"last": "A", "tel": "020 7047 1111 ext 8767", "other": "+33 5 8765 6432"},
                     {"last": "B", "tel": "+442012345678", "other": "823 124 125"},
                     {"last": "C", "tel": "0161 496 0006 x 12", "other": "1-223-234-2445 extension 742"},
                     {"last": "D", "tel": "0049 6142 775496", "other": "call reception"}]},
     [],
     [obj("8000", P, "A", {"dc:attribute:title": [name(last="A")], "dc:attribute:type": [otype(P)],
                           "std:attribute:telephone": [tel("+44 20 7047 1111 ext 8767", "+442070471111", "8767"), tel("+33 5 87 65 64 32", "+33587656432")]}),
      obj("8001", P, "B", {"dc:attribute:title": [name(last="B")], "dc:attribute:type": [otype(P)],
                           "std:attribute:telephone": [tel("+44 20 1234 5678", "+442012345678"), tel("+1 823124125")]}),
      obj("8002", P, "C", {"dc:attribute:title": [name(last="C")], "dc:attribute:type": [otype(P)],
                           "std:attribute:telephone": [tel("+44 161 496 0006 ext 12", "+441614960006", "12"), tel("+1 223-234-2445 ext 742", "+12232342445", "742")]}),
      obj("8003", P, "D", {"dc:attribute:title": [name(last="D")], "dc:attribute:type": [otype(P)],
                           "std:attribute:telephone": [tel("+49 6142 775496", "+496142775496"), tel("call reception")]})])

BOOK = "std:type:book"
case("set-value-of-the-type-changes-the-object-type",
     ctl("TYPE:std:type:book", [f("ref", "ref", "load:by-ref", filters=["haplo:string-to-ref"]),
                                {"action": "load", "destination": "object", "using": "load:by-ref", "otherwise": [{"action": "new", "destination": "object"}]},
                                f("t", "dc:attribute:title", "object"), f("about", "dc:attribute:subject", "object", refMapping="books")],
         mapping={"books": {"types": [BOOK], "using": "title", "values": {"first": "A book after all"}}}),
     {"data0.json": [{"t": "Second", "about": "first"}, {"ref": "8000", "t": "Renamed"}]},
     [],
     [obj("8000", BOOK, "Renamed", {"dc:attribute:title": [text("Renamed")], "dc:attribute:type": [otype(BOOK)]}, version=2),
      obj("8001", PRJ, "Stays a project", {"dc:attribute:title": [text("Stays a project")], "dc:attribute:type": [otype(PRJ)]}),
      obj("8002", BOOK, "Second", {"dc:attribute:title": [text("Second")], "dc:attribute:subject": [ref("8000")], "dc:attribute:type": [otype(BOOK)]})],
     before=dict(control=ctl("TYPE:std:type:project", [{"action": "new", "destination": "object"}, f("t", "dc:attribute:title", "object"),
                                                      {"action": "if-value-one-of", "source": "kind", "values": ["book"],
                                                       "then": [{"action": "set-value", "destination": "object", "name": "dc:attribute:type", "value": BOOK}]}]),
                 inputs={"data0.json": [{"t": "A book after all", "kind": "book"}, {"t": "Stays a project", "kind": "project"}]}))

# ---- write
if os.path.exists(ROOT): shutil.rmtree(ROOT)
for name, c in cases.items():
    d = os.path.join(ROOT, name); os.makedirs(d)
    def write_inputs(folder, control, inputs):
        json.dump(control, open(os.path.join(folder, "control.json"), "w"), indent=1, ensure_ascii=False)
        for fname, content in inputs.items():
            path = os.path.join(folder, "input-" + fname)
            if fname.endswith(".jsonl") and content is None:
                content = '{"last":"B","email":"b@x.org"}\n{"last":"C","email":"@b"}\n'
            if isinstance(content, bytes):
                open(path, "wb").write(content)
            elif isinstance(content, str):
                open(path, "w", encoding="utf-8").write(content)
            else:
                json.dump(content, open(path, "w", encoding="utf-8"), indent=1, ensure_ascii=False)
    write_inputs(d, c["control"], c["inputs"])
    if c["schema"]: json.dump(c["schema"], open(os.path.join(d, "schema.json"), "w"), indent=1)
    if c["before"]:
        b = os.path.join(d, "before"); os.makedirs(b); write_inputs(b, c["before"]["control"], c["before"]["inputs"])
    if c["mode"]: open(os.path.join(d, "mode"), "w").write(c["mode"])
    open(os.path.join(d, "expected-log.txt"), "w", encoding="utf-8").write("".join(l + "\n" for l in c["log"]))
    json.dump(c["objects"], open(os.path.join(d, "expected-objects.json"), "w", encoding="utf-8"), indent=1, ensure_ascii=False)
    if c["status"]: json.dump(c["status"], open(os.path.join(d, "expected-status.json"), "w"), indent=1)
print(len(cases), "cases")
