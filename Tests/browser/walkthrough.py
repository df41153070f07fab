"""The admin UI's acceptance walkthrough (docs/admin-ui.md, "Walkthrough"), steps 1 to 15, in
headless Chromium driven by selenium, against a real `intake serve` started by Tests/browser/run.

Every page visited is saved as a screenshot in Tests/browser/screenshots/ (git-ignored). The run
fails on the first unmet expectation, and on any JavaScript error or Content-Security-Policy
violation in the browser's console.

Environment: INTAKE_URL (the server), INTAKE_API_KEY (a key with the all scope, to compare the
UI's downloads with the API), ADMIN_PASSWORD (of the account ops), FIXTURES, SCREENSHOTS.
"""

import hashlib
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE = os.environ["INTAKE_URL"].rstrip("/")
API_KEY = os.environ["INTAKE_API_KEY"]
PASSWORD = os.environ["ADMIN_PASSWORD"]
FIXTURES = os.environ["FIXTURES"]
SCREENSHOTS = os.environ["SCREENSHOTS"]

# Statuses the walkthrough provokes on purpose; Chromium logs each as "Failed to load resource".
EXPECTED_STATUSES = ("400", "401", "403", "409")


class Failure(Exception):
    pass


def is_gone(element):
    """Whether a page's element belongs to a page that has been replaced. Chromium answers for such
    an element either with a stale-element error or, mid-navigation, with "Node with given id does
    not belong to the document"; both mean gone."""
    try:
        element.is_enabled()
        return False
    except (StaleElementReferenceException, WebDriverException):
        return True


def expect(condition, message):
    if not condition:
        raise Failure(message)


def fixture(name):
    return os.path.join(FIXTURES, name)


def make_driver(width=1280, height=1000, javascript=True):
    options = webdriver.ChromeOptions()
    options.add_argument("--headless=new")
    options.add_argument("--no-sandbox")
    options.add_argument("--disable-dev-shm-usage")
    options.add_argument(f"--window-size={width},{height}")
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    for path in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if os.path.exists(path):
            options.binary_location = path
            break
    service = webdriver.ChromeService(executable_path=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    return webdriver.Chrome(options=options, service=service)


class Walkthrough:
    def __init__(self):
        self.driver = make_driver()
        # Elements of the next page may take a moment to appear after a form post (uploads).
        self.driver.implicitly_wait(20)
        self.shots = 0

    # --- helpers -------------------------------------------------------------------------------

    def check_console(self):
        for entry in self.driver.get_log("browser"):
            message = entry.get("message", "")
            if "Content Security Policy" in message or "Content-Security-Policy" in message:
                raise Failure(f"CSP violation: {message}")
            if entry.get("level") == "SEVERE":
                if "Failed to load resource" in message and any(f"status of {s}" in message for s in EXPECTED_STATUSES):
                    continue
                raise Failure(f"browser console error: {message}")

    def shot(self, name):
        self.check_console()
        self.shots += 1
        path = os.path.join(SCREENSHOTS, f"{self.shots:02d}-{name}.png")
        self.driver.save_screenshot(path)

    def open(self, path, name):
        self.driver.get(BASE + path)
        self.shot(name)

    def read(self, tag):
        # The batch page reloads itself when a run ends: an element found just before the reload is
        # stale by the time its text is read, so read again.
        for attempt in range(10):
            try:
                return self.driver.find_element(By.TAG_NAME, tag).text
            except (StaleElementReferenceException, NoSuchElementException, WebDriverException):
                if attempt == 9:
                    raise
                time.sleep(0.2)

    def h1(self):
        return self.read("h1")

    def text(self):
        return self.read("main")

    def link(self, text):
        return self.driver.find_element(By.LINK_TEXT, text)

    def has_link(self, text):
        # Asked of a page already shown: no waiting for a link that should not be there.
        self.driver.implicitly_wait(0)
        try:
            return len(self.driver.find_elements(By.LINK_TEXT, text)) > 0
        finally:
            self.driver.implicitly_wait(20)

    def button(self, text):
        for element in self.driver.find_elements(By.CSS_SELECTOR, "main button, main .button"):
            if element.text.strip() == text and element.is_displayed():
                return element
        raise Failure(f"no button {text!r} on {self.driver.current_url}")

    def navigate(self, element):
        """Clicks a link or submit button and waits until the next page has replaced this one."""
        old = self.driver.find_element(By.TAG_NAME, "html")
        element.click()
        WebDriverWait(self.driver, 120, poll_frequency=0.1).until(lambda _: is_gone(old))

    def click(self, element, name):
        self.navigate(element)
        self.shot(name)

    def field(self, name):
        return self.driver.find_element(By.NAME, name)

    def fill(self, name, value):
        element = self.field(name)
        element.clear()
        element.send_keys(value)

    def flash(self):
        try:
            return self.driver.find_element(By.CSS_SELECTOR, ".flash-region").text
        except WebDriverException:
            return ""

    def cookie_header(self):
        return "; ".join(f"{c['name']}={c['value']}" for c in self.driver.get_cookies())

    def fetch(self, path, session=True, auth=None, data=None, headers=None):
        """A request outside the browser, with the browser's session cookie: (status, body)."""
        request = urllib.request.Request(BASE + path, data=data, headers=headers or {})
        if session:
            request.add_header("Cookie", self.cookie_header())
        if auth:
            import base64

            request.add_header("Authorization", "Basic " + base64.b64encode(f"haplo:{auth}".encode()).decode())
        try:
            with urllib.request.urlopen(request) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def curl(self, key, path, *form):
        result = subprocess.run(
            ["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "-u", f"haplo:{key}", BASE + path] + [a for f in form for a in ("-F", f)],
            capture_output=True, text=True, check=True)
        body, _, status = result.stdout.rpartition("\n")
        return int(status), body

    def batch_id(self):
        return self.driver.find_element(By.ID, "batch-id").text

    def wait_for(self, condition, seconds, message):
        try:
            WebDriverWait(self.driver, seconds, poll_frequency=0.25).until(lambda d: condition())
        except Exception as error:
            raise Failure(f"{message} (waited {seconds} s)") from error

    # --- the steps -----------------------------------------------------------------------------

    def step1_sign_in(self):
        self.open("/admin", "redirect-to-sign-in")
        expect("/admin/login" in self.driver.current_url, f"not redirected to sign-in: {self.driver.current_url}")
        self.fill("username", "ops")
        self.fill("password", "not the password")
        self.click(self.button("Sign in"), "sign-in-wrong-password")
        expect("Incorrect username or password." in self.text(), "no refusal for a wrong password")
        expect(self.field("username").get_attribute("value") == "ops", "the username was not kept")
        expect(self.field("password").get_attribute("value") == "", "the password was not cleared")
        self.fill("password", PASSWORD)
        self.click(self.button("Sign in"), "home")
        expect(self.h1() == "Data import", f"home title: {self.h1()}")
        for option in ["Control files", "Batches", "Create API key...", "API keys", "Models", "Value filters", "Documentation"]:
            expect(self.has_link(option), f"home has no option {option}")
        cookie = self.driver.get_cookie("intake_session")
        expect(cookie is not None, "no session cookie")
        expect(cookie["httpOnly"] and cookie.get("sameSite") == "Strict", f"cookie attributes: {cookie}")

    def step2_bad_control_files(self):
        self.click(self.driver.find_element(By.CSS_SELECTOR, "#site-nav").find_element(By.LINK_TEXT, "Control files"), "control-files-empty")
        expect("Control files: 0" in self.text(), "the list is not empty")
        self.click(self.link("Upload new control file..."), "upload-form")
        self.click(self.button("Upload control file"), "upload-empty")
        expect(self.text().count("Required field") >= 2, "Required field is not shown under both fields")
        expect("There is a problem" in self.text(), "no error summary")
        self.field("file").send_keys(fixture("not-json.json"))
        self.fill("comment", "Test")
        self.click(self.button("Upload control file"), "upload-not-json")
        expect("Not a valid JSON file" in self.text(), "no JSON refusal")
        expect(self.field("comment").get_attribute("value") == "Test", "the comment was not kept")
        self.field("file").send_keys(fixture("bad-control.json"))
        self.click(self.button("Upload control file"), "upload-invalid")
        message = "Not a valid control file: Bad version of control file, should be 0, Model not implemented: nope:model"
        expect(message in self.text(), f"validator messages: {self.text()}")
        self.open("/admin/control-files", "control-files-still-empty")
        expect("Control files: 0" in self.text(), "a refused control file was stored")

    def step3_good_control_file(self):
        self.click(self.link("Upload new control file..."), "upload-form-again")
        self.field("file").send_keys(fixture("people-control.json"))
        self.fill("comment", "People from HR")
        self.click(self.button("Upload control file"), "control-file")
        expect(self.h1() == "Control file: People from HR", f"title: {self.h1()}")
        digest = hashlib.sha256(open(fixture("people-control.json"), "rb").read()).hexdigest()
        expect(digest in self.text(), "the digest is not the file's SHA-256")
        expect("Control file uploaded." in self.flash(), f"flash: {self.flash()}")
        pretty = self.driver.find_element(By.CSS_SELECTOR, "pre.code").text
        expect(pretty.startswith('{\n  "dataImportControlFileVersion": 0,\n  "model": "haplo:person",\n  "files"'), f"pretty JSON: {pretty[:120]}")
        self.control_page = self.driver.current_url
        self.digest = digest
        self.open("/admin/control-files", "control-files-one")
        expect("Control files: 1" in self.text() and digest[:10] + "..." in self.text(), "the list does not show the file")

    def step4_new_batch(self):
        self.driver.get(self.control_page)
        self.click(self.link("New batch..."), "new-batch")
        names = [self.field(f"name_{i}").get_attribute("value") for i in range(3)]
        expect(names == ["staff", "students", ""], f"initial rows: {names}")
        self.fill("name_1", "staff")
        self.field("file_0").send_keys(fixture("staff.json"))
        self.field("file_1").send_keys(fixture("students.tsv"))
        self.fill("comment", "HR test")
        self.click(self.driver.find_element(By.ID, "create-batch"), "new-batch-duplicate")
        expect("Duplicate file names: staff" in self.text(), "no duplicate notice")
        kept = [e.text for e in self.driver.find_elements(By.CSS_SELECTOR, ".kept")]
        expect(len(kept) == 2 and "staff.json" in kept[0] and "students.tsv" in kept[1], f"kept files: {kept}")
        self.fill("name_1", "students")
        self.click(self.driver.find_element(By.ID, "create-batch"), "batch-ready")
        expect(self.h1() == "Batch: HR test", f"title: {self.h1()}")
        expect(self.driver.find_element(By.ID, "batch-state").text == "ready", "not ready")
        expect("Ready to run. Always do a dry run first." in self.text(), "no ready block")
        expect(self.has_link("Dry run...") and self.has_link("Import data..."), "no run buttons")
        rows = self.driver.find_elements(By.CSS_SELECTOR, "main table:not(.details) tbody tr")
        files = [r.find_element(By.CSS_SELECTOR, "th").text for r in rows]
        expect(files == ["staff", "students"], f"files: {files}")
        expect("staff.json" in rows[0].text and "students.tsv" in rows[1].text, "file names missing")
        self.hr_test = self.batch_id()

    def step5_dry_run(self):
        self.click(self.link("Dry run..."), "confirm-dry-run")
        expect(self.h1() == "Schedule batch: HR test", f"title: {self.h1()}")
        self.navigate(self.button("Dry run"))
        # Read at once: a short run ends within the first poll, and the page then reloads without it.
        flash = self.flash()
        self.shot("dry-run-scheduled")
        expect("Dry run scheduled." in flash, f"flash: {flash}")
        self.wait_for(lambda: "Dry run only: nothing was imported." in self.text(), 60, "the dry run did not finish on the page")
        self.shot("dry-run-finished")
        expect(self.driver.find_element(By.ID, "batch-state").text == "dry-run", "state is not dry-run")
        errors = self.driver.find_element(By.ID, "batch-errors").text
        expect(errors == "2", f"errors: {errors}")
        expect(self.has_link("Copy as new batch...") and not self.has_link("Import data..."), "wrong buttons after a dry run")

    def step6_log(self):
        self.link("view log below...").click()  # an anchor in the page: nothing to wait for
        self.shot("log")
        log = self.driver.find_element(By.ID, "log-text").text
        lines = [re.sub(r"^Problem: ", "", l) for l in log.split("\n") if l]
        expect(lines[0].startswith("START:"), f"first log line: {lines[0]}")
        expect(any(l.startswith("dc:attribute:title is not set in object profile (record 1)") for l in lines), f"log: {lines}")
        expect(lines[-1].startswith("END:"), f"last log line: {lines[-1]}")
        status, downloaded = self.fetch(f"/admin/batches/{self.hr_test}/log.txt?download=1")
        api_status, api_log = self.fetch(f"/api/haplo-data-import-batch/log?batch={self.hr_test}", session=False, auth=API_KEY)
        expect(status == 200 and api_status == 200 and downloaded == api_log, "Download log differs from the API's log")
        expect("Records: 5 read, 4 checked, 1 failed, 0 unchanged." in self.text(), "the dry-run counts are missing")
        # Download failed rows for staff: a JSON array with that one person, as in the file, with its errors.
        href = self.driver.find_element(By.ID, "failed-rows").find_element(By.LINK_TEXT, "staff").get_attribute("href")
        status, body = self.fetch(href.replace(BASE, ""))
        failed = json.loads(body)
        expect(status == 200 and len(failed) == 1 and "dc:attribute:title is not set in object profile (record 1)" in failed[0]["_errors"],
               f"failed rows of staff: {status} {body[:300]!r}")
        self.click(self.link("Results"), "results")
        self.driver.find_element(By.CSS_SELECTOR, "input[name=status][value=failed]").click()
        self.click(self.button("Filter"), "results-failed")
        rows = self.driver.find_elements(By.CSS_SELECTOR, "#results tbody tr")
        expect(len(rows) == 1, f"failed rows: {len(rows)}")
        cells = rows[0].find_elements(By.CSS_SELECTOR, "th, td")
        expect(cells[1].text == "record 1" and cells[2].text == "staff", f"failed row: {[c.text for c in cells]}")

    def step7_nothing_imported(self):
        self.open("/admin/objects?type=std:type:person", "objects-none")
        expect(len(self.driver.find_elements(By.ID, "no-objects")) == 1, "objects exist after a dry run")

    def step8_progress(self):
        self.driver.get(self.control_page)
        self.click(self.link("New batch..."), "new-batch-large")
        self.field("file_0").send_keys(os.path.join(os.environ["WORK"], "staff-large.json"))
        self.fill("comment", "Large staff")
        self.click(self.driver.find_element(By.ID, "create-batch"), "large-ready")
        large = self.batch_id()
        self.click(self.link("Dry run..."), "large-confirm")
        self.navigate(self.button("Dry run"))
        seen = []
        self.driver.implicitly_wait(0)
        deadline = time.time() + 300
        while time.time() < deadline:
            try:
                records = self.driver.find_elements(By.ID, "progress-records")
                text = records[0].text if records else ""
            except StaleElementReferenceException:
                text = ""
            if text:
                if text and (not seen or seen[-1] != text):
                    seen.append(text)
                    if len(seen) == 3:
                        self.shot("large-progress")
            if "Dry run only: nothing was imported." in self.text():
                break
            time.sleep(0.3)
        self.driver.implicitly_wait(20)
        self.shot("large-finished")
        expect("Dry run only: nothing was imported." in self.text(), "the large dry run did not finish")
        counts = [int(m.group(1)) for m in (re.search(r"Records: (\d+) read", s) for s in seen) if m]
        increases = sum(1 for a, b in zip(counts, counts[1:]) if b > a)
        expect(increases >= 2, f"progress did not increase twice without reloading: {seen}")
        status, html = self.fetch(f"/admin/batches/{large}")
        expect(status == 200, "batch page")
        # Without JavaScript: the page offers Refresh while a batch runs (checked on the markup the
        # server sends for an active batch, kept from the first sample above).
        expect(b'<noscript><meta http-equiv="refresh"' not in html, "a finished batch keeps refreshing")

    def step8b_no_javascript(self):
        driver = make_driver(javascript=False)

        def find(by, value, seconds=60):
            # A form post (a 51 MB upload among them) may still be loading when the next step looks.
            WebDriverWait(driver, seconds, poll_frequency=0.25).until(lambda d: len(d.find_elements(by, value)) > 0)
            return driver.find_element(by, value)

        try:
            driver.get(BASE + "/admin/login")
            find(By.NAME, "username").send_keys("ops")
            find(By.NAME, "password").send_keys(PASSWORD)
            find(By.CSS_SELECTOR, "main button").click()
            find(By.LINK_TEXT, "Control files")
            driver.get(self.control_page)
            find(By.LINK_TEXT, "New batch...").click()
            find(By.NAME, "file_0").send_keys(os.path.join(os.environ["WORK"], "staff-large.json"))
            find(By.NAME, "comment").send_keys("Large staff, no JavaScript")
            find(By.ID, "create-batch").click()
            find(By.LINK_TEXT, "Dry run...").click()
            find(By.CSS_SELECTOR, "form.confirm button[type=submit]").click()
            find(By.ID, "batch-state")
            self.shots += 1
            driver.save_screenshot(os.path.join(SCREENSHOTS, f"{self.shots:02d}-no-javascript-running.png"))
            page = driver.find_element(By.TAG_NAME, "body").text
            # The page reloads itself every 10 seconds (noscript refresh): allow for one reload.
            try:
                find(By.LINK_TEXT, "Refresh", seconds=15)
            except Exception as error:
                raise Failure(f"no Refresh link without JavaScript; the page said: {page[:1500]}") from error
            expect("Running. Reload the page to see progress." in page or "Waiting for a worker." in page, "no text for a running batch")
            expect(not any(b.is_displayed() for b in driver.find_elements(By.CSS_SELECTOR, "button.copy")), "a Copy button without JavaScript")
            # This dry run is not used further: cancelled, so that the import of step 9 does not
            # queue behind it for the one worker (on a slow machine it outlasted step 9's wait).
            batch = driver.current_url.rstrip("/").rsplit("/", 1)[-1]
            status, body = self.curl(API_KEY, "/api/haplo-data-import-batch/cancel", f"batch={batch}")
            expect(status == 200 or "has already finished" in body, f"cancelling the large dry run {batch}: {status} {body}")
        finally:
            driver.quit()

    def step9_copy_and_import(self):
        self.open(f"/admin/batches/{self.hr_test}", "hr-test-again")
        self.click(self.link("Copy as new batch..."), "confirm-copy")
        self.click(self.button("Copy batch"), "copy-ready")
        expect(self.h1() == "Batch: HR test (copy)", f"title: {self.h1()}")
        expect("Batch copied." in self.flash(), f"flash: {self.flash()}")
        copy = self.batch_id()
        expect(copy != self.hr_test, "the copy has the same identifier")
        expect(self.driver.find_element(By.ID, "batch-state").text == "ready", "the copy is not ready")
        self.click(self.link("Import data..."), "confirm-import")
        expect("The data in Intake will be changed." in self.text(), "no warning on the import page")
        expect(f"Dry run of batch {self.hr_test}: 5 records, 1 failed, 2 errors" in self.text(), f"no dry-run outcome: {self.text()}")
        self.click(self.button("Import data"), "import-scheduled")
        self.wait_for(lambda: "Imported." in self.text(), 120, "the import did not finish on the page")
        self.shot("imported")
        expect("Imported. 4 applied, 1 failed, 0 unchanged." in self.text(), f"import outcome: {self.text()}")
        expect(self.driver.find_element(By.ID, "batch-errors").text == "2", "import errors")
        self.copy = copy
        self.open(f"/admin/batches/{self.hr_test}", "original-still-dry-run")
        expect(self.driver.find_element(By.ID, "batch-state").text == "dry-run", "the original changed state")
        expect(not self.has_link("Dry run...") and not self.has_link("Import data..."), "the original offers a run")
        self.open(f"/admin/batches/{self.hr_test}/import", "import-wrong-state")
        expect("Batch is in the wrong state." in self.text(), "no wrong-state page")
        status, _ = self.fetch(f"/admin/batches/{self.hr_test}/import")
        expect(status == 409, f"wrong-state status: {status}")

    def step10_objects(self):
        self.open("/admin/objects?type=std:type:person", "objects")
        rows = self.driver.find_elements(By.CSS_SELECTOR, "#objects tbody tr")
        expect(len(rows) == 4, f"people: {len(rows)}")
        titles = [r.find_elements(By.CSS_SELECTOR, "td")[0].text for r in rows]
        expect("Ada Lovelace" in titles, f"titles: {titles}")
        self.click(self.driver.find_element(By.LINK_TEXT, rows[titles.index("Ada Lovelace")].find_element(By.CSS_SELECTOR, "a").text), "object")
        expect(self.h1() == "Ada Lovelace", f"object title: {self.h1()}")
        self.ada = self.driver.current_url.rstrip("/").rsplit("/", 1)[-1]
        expect("ada@example.ac.uk" in self.text(), "no email")
        expect(self.driver.find_element(By.ID, "object-version").text == "1", "version")
        self.click(self.link("History"), "history")
        rows = self.driver.find_elements(By.CSS_SELECTOR, "#history tbody tr")
        expect(len(rows) == 1 and self.copy in rows[0].text, f"history: {[r.text for r in rows]}")

    def step11_create_key(self):
        self.click(self.driver.find_element(By.CSS_SELECTOR, "#site-nav").find_element(By.LINK_TEXT, "API keys"), "api-keys")
        self.open("/admin/api-keys/new", "api-key-new")
        self.fill("name", "CI script")
        self.driver.find_element(By.CSS_SELECTOR, "input[name=scope][value=batch]").click()
        self.click(self.button("Create API key"), "api-key-created")
        expect("This is the only time it can be displayed." in self.text(), "no once-only notice")
        self.key = self.driver.find_element(By.ID, "created-key").text
        expect(len(self.key) > 40, "no key shown")
        self.driver.refresh()
        self.shot("api-key-created-reloaded")
        expect("This key can no longer be displayed." in self.text() and self.key not in self.driver.page_source, "the key was shown twice")
        self.open("/admin/api-keys", "api-keys-with-ci")
        row = self.key_row("CI script")
        expect(["CI script", "batch", "never", "active"] == [row[0], row[1], row[3], row[4]], f"key row: {row}")

    def key_row(self, name):
        for row in self.driver.find_elements(By.CSS_SELECTOR, "#api-keys tbody tr"):
            cells = [c.text for c in row.find_elements(By.CSS_SELECTOR, "th, td")]
            if cells[0] == name:
                return cells
        raise Failure(f"no key row {name}")

    def step12_use_and_revoke(self):
        status, body = self.curl(self.key, "/api/haplo-data-import-batch/control", f"file=@{fixture('people-control.json')}", "comment=People from HR")
        expect(status == 200 and body.strip() == self.digest, f"control upload with the key: {status} {body}")
        status, body = self.curl(self.key, "/api/haplo-data-import-batch/batch", f"control={self.digest}", "comment=From script")
        expect(status == 200 and len(body.strip()) == 26, f"batch with the key: {status} {body}")
        script_batch = body.strip()
        self.open("/admin/api-keys", "api-keys-used")
        expect(self.key_row("CI script")[3] != "never", "Last used was not recorded")
        self.open("/admin/batches", "batches")
        expect("From script" in self.text(), "the script's batch is not listed")
        self.open(f"/admin/batches/{script_batch}", "script-batch")
        expect("Files are being uploaded through the API." in self.text(), "no uploading block")
        expect(not self.has_link("Dry run...") and not self.has_link("Import data..."), "an uploading batch offers a run")
        self.open("/admin/api-keys", "api-keys-before-revoke")
        for row in self.driver.find_elements(By.CSS_SELECTOR, "#api-keys tbody tr"):
            if row.find_element(By.CSS_SELECTOR, "th").text == "CI script":
                self.click(row.find_element(By.PARTIAL_LINK_TEXT, "Revoke..."), "confirm-revoke")
                break
        self.click(self.button("Revoke key"), "revoked")
        expect("API key CI script revoked." in self.flash(), f"flash: {self.flash()}")
        expect(self.key_row("CI script")[4] == "revoked", "status is not revoked")
        status, _ = self.curl(self.key, "/api/haplo-data-import-batch/control", f"file=@{fixture('people-control.json')}", "comment=People from HR")
        expect(status == 401, f"a revoked key was accepted: {status}")

    def step12b_push_api(self):
        """A push API defined in the browser, with a key of scope push made there too, then called."""
        self.open("/admin/api-keys/new", "push-key-new")
        self.fill("name", "HR system")
        self.driver.find_element(By.CSS_SELECTOR, "input[name=scope][value=push]").click()
        self.click(self.button("Create API key"), "push-key-created")
        push_key = self.driver.find_element(By.ID, "created-key").text
        self.click(self.driver.find_element(By.CSS_SELECTOR, "#site-nav").find_element(By.LINK_TEXT, "Push APIs"), "push-apis")
        expect("There are no push APIs." in self.text(), "push APIs listed before any was made")
        self.fill("name", "staff-update")
        self.fill("description", "HR's changes between nights")
        self.driver.find_element(By.CSS_SELECTOR, "input[name=response][value=xml]").click()
        with open(fixture("push-control.json")) as control:
            self.field("controlJSON").send_keys(control.read())
        self.click(self.button("Create push API"), "push-api-created")
        expect("Push API staff-update created" in self.text(), f"no notice: {self.text()[:300]}")
        row = [c.text for c in self.driver.find_elements(By.CSS_SELECTOR, "#push-apis tbody tr")[0].find_elements(By.CSS_SELECTOR, "th, td")]
        expect(row[:4] == ["staff-update", "POST /api/push-data/staff-update", "enabled", "XML"], f"push API row: {row}")
        result = subprocess.run(
            ["curl", "-s", "-w", "\n%{http_code}", "-u", f"haplo:{push_key}", "--data-binary",
             '{"first": "Grace", "last": "Hopper", "email": "grace@example.ac.uk"}', BASE + "/api/push-data/staff-update"],
            capture_output=True, text=True, check=True)
        body, _, status = result.stdout.rpartition("\n")
        expect(status == "200" and '<response result="success" applied="1" failures="0" errorCount="0">' in body, f"push call: {status} {body}")
        self.click(self.driver.find_element(By.CSS_SELECTOR, "form[action$='/staff-update/disable'] button"), "push-api-disabled")
        expect("Push API staff-update disabled." in self.text(), "no disabled notice")
        result = subprocess.run(
            ["curl", "-s", "-w", "\n%{http_code}", "-u", f"haplo:{push_key}", "--data-binary", "{}", BASE + "/api/push-data/staff-update"],
            capture_output=True, text=True, check=True)
        expect(result.stdout.endswith("\n400") and "API is disabled: staff-update" in result.stdout, f"disabled call: {result.stdout}")
        self.open("/admin/batches", "batches-with-push")
        expect("push staff-update" in self.text(), "the push call's batch is not listed")

    def step13_models(self):
        self.click(self.driver.find_element(By.CSS_SELECTOR, "#site-nav").find_element(By.LINK_TEXT, "Models"), "models")
        self.click(self.driver.find_element(By.PARTIAL_LINK_TEXT, "haplo:person ("), "model-person")
        sections = self.driver.find_elements(By.CSS_SELECTOR, "section.destination")
        titles = [s.find_element(By.TAG_NAME, "h2").text for s in sections]
        profile = sections[0]
        expect('{"destination": "profile"}' in profile.text, "no destination snippet")
        for row in profile.find_elements(By.CSS_SELECTOR, "tbody tr"):
            cells = row.find_elements(By.CSS_SELECTOR, "th, td")
            if cells[0].text == "dc:attribute:title":
                expect("person-name" in cells[1].text and "✓" in cells[3].text, f"title row: {[c.text for c in cells]}")
                break
        else:
            raise Failure("no dc:attribute:title row")
        pseudo = [s for s in sections if "Pseudo destination" in s.text]
        expect([p.find_element(By.TAG_NAME, "h2").text for p in pseudo][-2:] == titles[-2:], f"pseudo-destinations are not last: {titles}")
        expect(any("load:by-ref" in p.text for p in pseudo) and any("value:person-name" in p.text for p in pseudo), "pseudo badges")
        self.click(self.link("Generate control file..."), "generate")
        for name in ["n.profile.dc:attribute:title", "n.profile.std:attribute:email"]:
            self.field(name).click()
        self.click(self.button("Generate control file"), "generated")
        generated = json.loads(self.driver.find_element(By.ID, "generated-json").get_attribute("value"))
        expect(generated["dataImportControlFileVersion"] == 0 and generated["model"] == "haplo:person", "root properties")
        expect(generated["files"] == {"DEFAULT": {"read": "json"}}, f"files: {generated['files']}")
        instructions = generated["instructions"]
        expect(instructions[0].get("source") == "TODO-USERNAME" and instructions[0].get("filters") == ["haplo:username-to-ref"], "username field")
        expect(instructions[1] == {"action": "load", "destination": "profile", "using": "load:by-ref"}, f"load: {instructions[1]}")
        parts = [i for i in instructions[2:7] if i.get("destination") == "value:person-name"]
        expect(len(parts) == 5, f"person-name parts: {instructions[2:7]}")
        expect(instructions[7].get("action") == "field-structured" and instructions[7]["name"] == "dc:attribute:title", f"{instructions[7]}")
        expect(instructions[8].get("source") == "TODO-EMAIL" and len(instructions) == 9, f"{instructions[8:]}")
        expect(not any(i.get("action") == "new" for i in instructions), "a new instruction was generated")
        self.open("/admin/docs/control-file#data-types", "docs-data-types")
        expect(self.driver.find_element(By.ID, "data-types").text == "Data types", "the (i) links lead nowhere")

    def push_night(self, count, comment):
        """A night of the hr-staff feed pushed with the API key (people 1..count); returns its batch once it stops."""
        people = [{"number": str(i), "first": f"Staff{i}", "last": "Member", "email": f"s{i}@example.ac.uk"} for i in range(1, count + 1)]
        path = os.path.join(SCREENSHOTS, f"night-{count}.json")
        with open(path, "w") as out:
            json.dump(people, out)
        status, digest = self.curl(API_KEY, "/api/haplo-data-import-batch/control", f"file=@{fixture('feed-control.json')}", "comment=HR feed")
        expect(status == 200, f"feed control upload: {status} {digest}")
        status, batch = self.curl(API_KEY, "/api/haplo-data-import-batch/batch", f"control={digest.strip()}", f"comment={comment}")
        batch = batch.strip()
        self.curl(API_KEY, "/api/haplo-data-import-batch/file", f"batch={batch}", "name=staff", f"file=@{path}")
        status, body = self.curl(API_KEY, "/api/haplo-data-import-batch/schedule", f"batch={batch}")
        expect(status == 200 and body == "SCHEDULED", f"schedule: {status} {body}")

        def stopped():
            _, text = self.fetch(f"/api/haplo-data-import-batch/status?batch={batch}", session=False, auth=API_KEY)
            return json.loads(text)["state"] in ("complete", "held", "error")

        self.wait_for(stopped, 60, f"the night {comment} did not stop")
        return batch

    def step13b_held_feed(self):
        """A truncated night of a feed is held; an operator reads why, sees the leavers, and approves it."""
        self.push_night(120, "Night one")
        held = self.push_night(90, "Night two (truncated)")
        self.open("/admin", "home-with-held")
        expect("hr-staff" in self.driver.find_element(By.ID, "home-feeds").text, "the home page does not show the feed")
        self.click(self.driver.find_element(By.CSS_SELECTOR, "#site-nav").find_element(By.LINK_TEXT, "Feeds"), "feeds")
        expect("Night two (truncated)" in self.driver.find_element(By.ID, "held-batches").text, "the held batch is not listed first")
        self.click(self.driver.find_element(By.ID, "held-batches").find_element(By.PARTIAL_LINK_TEXT, "Night two"), "held-batch")
        expect(self.driver.find_element(By.ID, "batch-state").text == "held", "the batch is not shown as held")
        reason = self.driver.find_element(By.ID, "held-reason").text
        expect("30 of 120 keys would leave the feed, more than the limit of 20%" in reason, f"held reason: {reason}")
        self.click(self.driver.find_element(By.ID, "approve-link"), "approve-confirm")
        leavers = self.driver.find_elements(By.CSS_SELECTOR, "#held-leavers tbody tr")
        expect(len(leavers) == 30, f"the confirm page lists {len(leavers)} leavers, not 30")
        expect("30 of 120 keys would leave feed hr-staff" in self.driver.find_element(By.ID, "held-reason").text, "no count and limit")
        self.click(self.button("Approve batch"), "approved")
        expect("Batch approved" in self.flash(), f"flash: {self.flash()}")

        def complete():
            _, text = self.fetch(f"/api/haplo-data-import-batch/status?batch={held}", session=False, auth=API_KEY)
            return json.loads(text)["state"] == "complete"

        self.wait_for(complete, 60, "the approved batch did not complete")
        self.open(f"/admin/batches/{held}", "approved-batch")
        summary = self.driver.find_element(By.ID, "summary-records").text
        expect("Leavers: 30." in summary, f"summary: {summary}")
        expect("APPROVED: " in self.text() and "by admin ops" in self.text(), "the log does not say who approved it")
        self.open("/admin/feeds/hr-staff", "feed")
        expect(len(self.driver.find_elements(By.CSS_SELECTOR, "#feed-chart rect")) == 10, "the chart does not show 2 nights x 5 counts")
        expect(len(self.driver.find_elements(By.CSS_SELECTOR, "#feed-runs tbody tr")) == 2, "the runs table")
        self.fill("key", "100")
        self.click(self.button("Show"), "key-history")
        rows = [r.text for r in self.driver.find_elements(By.CSS_SELECTOR, "#key-history tbody tr")]
        expect(len(rows) == 2 and rows[0].startswith("left") and rows[1].startswith("active"), f"key history: {rows}")

    def step13c_rollback(self):
        """The import is undone: a preview, the tick, then the batch is rolled back and history says so."""
        self.open(f"/admin/batches/{self.copy}", "before-rollback")
        self.click(self.link("Roll back..."), "rollback-preview")
        deletes = self.driver.find_elements(By.CSS_SELECTOR, "#rollback-delete tbody tr")
        expect(len(deletes) == 4, f"the preview lists {len(deletes)} objects to delete, not 4")
        expect("Objects to delete (4)" in self.text() and "Conflicts (0)" in self.text(), "the preview's counts")
        self.driver.find_element(By.NAME, "understood").click()
        self.click(self.button("Roll back batch"), "rolled-back")
        expect("Batch rolled back." in self.flash(), f"flash: {self.flash()}")
        expect(self.driver.find_element(By.ID, "batch-state").text == "rolled-back", "the state is not rolled-back")
        expect("by admin ops" in self.driver.find_element(By.ID, "rolled-back").text, "the page does not say who rolled it back")
        expect("ROLLED BACK: " in self.text() and "4 objects deleted, 0 restored, 0 left alone" in self.text(), "no ROLLED BACK log line")
        expect(not self.has_link("Roll back..."), "a rolled-back batch offers another rollback")
        # The failed record of the import becomes a batch of its own, ready, with its file listed.
        self.click(self.link("Retry failed records..."), "retry-confirm")
        self.click(self.button("Retry failed records"), "retry-ready")
        expect("Batch of the failed records created" in self.flash(), f"flash: {self.flash()}")
        expect(self.h1() == "Batch: HR test (copy) (retry of failed records)", f"title: {self.h1()}")
        expect(self.driver.find_element(By.ID, "batch-state").text == "ready", "the retry batch is not ready")
        files = [r.text for r in self.driver.find_elements(By.CSS_SELECTOR, "#files tbody tr")]
        expect(len(files) == 1 and files[0].startswith("staff"), f"the retry batch's files: {files}")
        _, text = self.fetch(f"/api/v1/objects/{self.ada}", session=False, auth=API_KEY)
        expect(json.loads(text).get("deleted") is True, f"Ada is not deleted: {text}")
        self.open(f"/admin/objects/{self.ada}/history", "history-after-rollback")
        rows = self.driver.find_elements(By.CSS_SELECTOR, "#history tbody tr")
        expect(len(rows) == 2 and f"rollback of {self.copy}" in rows[1].text and "Deleted" in rows[1].text, f"history: {[r.text for r in rows]}")

    def step14_security(self):
        self.open("/admin/api-keys/new", "csrf-form")
        self.driver.execute_script("document.querySelector('main input[name=csrf]').remove()")
        self.fill("name", "Forged")
        self.click(self.button("Create API key"), "csrf-refused")
        expect("This form has expired. Go back, reload the page and try again." in self.text(), "no CSRF refusal")
        self.open("/admin/api-keys", "no-forged-key")
        expect("Forged" not in self.text(), "a form without its token changed something")
        self.click(self.driver.find_element(By.CSS_SELECTOR, "header .account button"), "signed-out")
        expect("You have signed out." in self.text(), "no signed-out notice")
        self.open("/admin", "after-sign-out")
        expect("/admin/login" in self.driver.current_url, "signed out but /admin is open")

    def step15_narrow(self):
        self.fill("username", "ops")
        self.fill("password", PASSWORD)
        self.navigate(self.button("Sign in"))
        self.driver.set_window_size(360, 800)
        self.open(f"/admin/batches/{self.copy}", "narrow-batch")
        scroll, client = self.driver.execute_script("return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        expect(scroll <= client, f"horizontal page scroll at 360 px: {scroll} > {client}")
        menu = self.driver.find_element(By.CSS_SELECTOR, ".menu-button")
        nav = self.driver.find_element(By.ID, "site-nav")
        expect(menu.is_displayed() and not nav.is_displayed(), "the navigation is not behind a menu button")
        # Keyboard only: tab from the top and reach every visible button and button-like link.
        targets = [e for e in self.driver.find_elements(By.CSS_SELECTOR, "button, a.button") if e.is_displayed()]
        reached = set()
        body = self.driver.find_element(By.TAG_NAME, "body")
        body.send_keys(Keys.TAB)
        for _ in range(80):
            active = self.driver.switch_to.active_element
            reached.add(active.id)
            active.send_keys(Keys.TAB)
        missing = [t.text for t in targets if t.id not in reached]
        expect(not missing, f"not reachable with the keyboard: {missing}")
        menu.send_keys(Keys.ENTER)
        self.shot("narrow-menu-open")
        expect(nav.is_displayed(), "the menu button does not open the navigation")

    def run(self):
        steps = [
            self.step1_sign_in, self.step2_bad_control_files, self.step3_good_control_file, self.step4_new_batch, self.step5_dry_run,
            self.step6_log, self.step7_nothing_imported, self.step8_progress, self.step8b_no_javascript, self.step9_copy_and_import,
            self.step10_objects, self.step11_create_key, self.step12_use_and_revoke, self.step12b_push_api, self.step13_models, self.step13b_held_feed, self.step13c_rollback,
            self.step14_security,
            self.step15_narrow,
        ]
        try:
            for step in steps:
                step()
                print(f"ok   {step.__name__}", flush=True)
        except Exception:
            try:
                self.driver.save_screenshot(os.path.join(SCREENSHOTS, "failure.png"))
                print("page at failure:", self.driver.current_url, file=sys.stderr)
                print(self.driver.find_element(By.TAG_NAME, "body").text[:3000], file=sys.stderr)
            except Exception:
                pass
            raise
        finally:
            self.driver.quit()


if __name__ == "__main__":
    Walkthrough().run()
    print("walkthrough passed")
