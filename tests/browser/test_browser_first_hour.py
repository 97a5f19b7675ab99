"""The first hour on the real demo (``salesync demo`` in a subprocess), in Chromium: sign in as
a rep, send an email to one of the people (found by name as you type), find its Task in the
Contact's Activity History on the sandbox org's pages, complete a synced reminder there, and
see it done in the Command Center; a task made there for the rep arrives too."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.fixtures_browser import screenshot

READY_WAIT_SECONDS = 120
#: The demo's worker polls Salesforce every 5 seconds; leave room for a slow machine.
SETTLE_MS = 60_000
REP = "rep1@demo.salesync.test"
REMINDER = "Prepare the demo agenda"
NEW_IN_SALESFORCE = "Call about the contract"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Demo:
    web: str
    org: str
    folder: Path
    passwords: dict[str, str]


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    web, org, smtp = _free_port(), _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALESYNC_")}
    env.update({"SALESYNC_DATA_DIR": str(tmp_path / "data"), "HOME": str(tmp_path)})
    env["COLUMNS"] = "200"
    args = ["--port", str(web), "--sandbox-port", str(org), "--smtp-port", str(smtp)]
    process = subprocess.Popen(
        [sys.executable, "-m", "salesync", "demo", *args],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    later: list[str] = []
    try:
        output = ""
        deadline = time.monotonic() + READY_WAIT_SECONDS
        while "Ctrl+C stops" not in output and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            output += line
        passwords = dict(re.findall(r"(\S+@demo\.salesync\.test)\s*│\s*(\S+)\s*│", output))
        assert REP in passwords, output
        # Keep reading what the demo prints, so its pipe never fills, and show it on failure.
        reader = threading.Thread(target=lambda: later.extend(process.stdout or ()), daemon=True)
        reader.start()
        yield Demo(
            f"http://127.0.0.1:{web}",
            f"http://127.0.0.1:{org}",
            tmp_path / "data" / "demo",
            passwords,
        )
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        # pytest shows this only when the test failed: the demo's own account of it.
        print("the demo printed after 'ready':\n" + "".join(later))  # noqa: T201


def _linked_person(demo: Demo) -> tuple[str, str, str]:
    """(name, email, Salesforce Contact id) of the rep's first person linked to a Contact."""
    with sqlite3.connect(demo.folder / "salesync.db") as connection:
        row = connection.execute(
            "select first_name || ' ' || last_name, email, sf_contact_id from people "
            "where sf_contact_id is not null order by id limit 1"
        ).fetchone()
    return str(row[0]), str(row[1]), str(row[2])


def _reload_until(page: Any, locator: Any, text: str, timeout_ms: int = SETTLE_MS) -> None:
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        content = locator.text_content() if locator.count() else None
        if text in (content or ""):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} did not appear")
        time.sleep(1)
        page.reload()


def test_the_first_hour_on_the_demo(demo: Demo, page: Any) -> None:
    name, email, contact_id = _linked_person(demo)

    # Sign in as a rep with the password the demo printed.
    page.goto(demo.web + "/login")
    page.get_by_label("Email").fill(REP)
    page.get_by_label("Password").fill(demo.passwords[REP])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto(demo.web + "/command-center")
    expect(page.locator("ul[aria-label='Open tasks']")).to_contain_text(REMINDER)

    # Send an email: the To field finds the person by name as you type.
    compose = page.locator("#send-email")
    to = compose.get_by_label("To", exact=True)
    to.press_sequentially(name.split()[-1][:4], delay=50)
    expect(page.locator(f"#email-to-suggestions option[value='{email}']")).to_have_count(1)
    to.fill(email)
    subject = "Welcome to the first hour"
    compose.get_by_label("Subject").fill(subject)
    compose.get_by_label("Message").fill("Hello, good to meet you.")
    compose.get_by_role("button", name="Send").click()
    row = page.locator("#sent-emails tr", has_text=subject)
    expect(row.locator(".sync-state")).to_have_attribute("data-state", "logged", timeout=SETTLE_MS)

    # The org's own pages: the Task is in the Contact's Activity History.
    page.goto(f"{demo.org}/lightning/r/Contact/{contact_id}/view")
    history = page.get_by_role("region", name="Activity History")
    _reload_until(page, history, subject)
    expect(history.get_by_role("link", name=re.compile(subject))).to_be_visible()
    open_activities = page.get_by_role("region", name="Open Activities")
    _reload_until(page, open_activities, REMINDER)
    screenshot(page, "first-hour-org-contact")

    # Complete the synced reminder in Salesforce, by hand.
    open_activities.get_by_role("link", name=REMINDER).click()
    page.get_by_role("button", name="Mark complete").click()
    expect(page.get_by_role("status")).to_have_text("Task marked complete.")
    expect(page.locator("dl")).to_contain_text("Completed")

    # And a task made in Salesforce for the rep, from the Contact's page.
    page.goto(f"{demo.org}/lightning/r/Contact/{contact_id}/view")
    page.get_by_role("link", name="New task").click()
    page.get_by_label("Subject").fill(NEW_IN_SALESFORCE)
    today = dt.datetime.now(ZoneInfo("America/Los_Angeles")).date()  # the rep's time zone
    page.get_by_label("Due date").fill(today.isoformat())
    page.get_by_label("Assigned to").select_option(label="Rep Number1")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Task created.")

    # salesync's poll brings both back: one done, one new in the Command Center.
    page.goto(demo.web + "/command-center")
    _reload_until(page, page.locator("ul[aria-label='Completed tasks']"), REMINDER)
    expect(page.locator("ul[aria-label='Open tasks']")).not_to_contain_text(REMINDER)
    _reload_until(page, page.locator("ul[aria-label='Open tasks']"), NEW_IN_SALESFORCE)
    screenshot(page, "first-hour-command-center")
