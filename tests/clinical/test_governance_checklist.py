"""Issue 14, item 10: the checklist's blocking answers, through the widgets a technician uses.

"Metal not removed" and "no hearing protection" stop the session at the checklist (not just a
note): Continue stays off and the page says why and what to do. The new questions (seizure /
fall / head injury, possible pregnancy, new side effects incl. high mood or no sleep, thoughts
of self-harm; a new implant asked once) are data, each deciding whether "yes" stops for a
physician or asks a note.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from console.resource_data import load as load_json
from console.ui.chair.checklist import ChecklistPage


def _page(qtbot) -> ChecklistPage:
    page = ChecklistPage()
    qtbot.addWidget(page)
    page.resize(1000, 700)
    page.show()
    page.windowHandle().requestActivate()
    qtbot.waitUntil(page.isActiveWindow, timeout=10000)
    page.begin("P-1001 · Session 3")
    return page


def _answer_all_with_keys(qtbot, page: ChecklistPage, special: dict[str, str]) -> None:
    """Y/N on each question in turn, the uneventful way unless ``special`` says otherwise; a note
    where one is asked."""
    for item in page.items:
        want = special.get(item.item_id, "yes" if "no" in item.note_on else "no")
        focused = QApplication.focusWidget()
        assert focused in (item.yes, item.no), item.item_id
        qtbot.keyClick(focused, Qt.Key.Key_Y if want == "yes" else Qt.Key.Key_N)
        if item.needs_note:
            assert QApplication.focusWidget() is item.note
            qtbot.keyClicks(item.note, "told the technician")
            qtbot.keyClick(item.note, Qt.Key.Key_Return)


def _item(page: ChecklistPage, item_id: str):
    return next(i for i in page.items if i.item_id == item_id)


def test_metal_not_removed_stops_the_session_and_says_why(qtbot) -> None:
    page = _page(qtbot)
    completed: list = []
    page.completed.connect(completed.append)
    _answer_all_with_keys(qtbot, page, {"metal_removed": "no"})
    metal = _item(page, "metal_removed")
    assert not page.proceed.isEnabled(), "a 'no' to metal removed only asked for a note"
    assert metal.stop.isVisibleTo(page) and "metal" in metal.stop.text().lower()
    assert "remove" in metal.stop.text().lower()  # what to do
    assert "cannot start" in page.status.text()
    qtbot.keyClick(page, Qt.Key.Key_Return)
    page.proceed.click()
    assert completed == []
    # metal taken off: answered again, the session may go on
    metal.yes.click()
    assert page.proceed.isEnabled() and not metal.stop.isVisibleTo(page)
    page.proceed.click()
    assert len(completed) == 1


def test_no_hearing_protection_stops_the_session(qtbot) -> None:
    page = _page(qtbot)
    completed: list = []
    page.completed.connect(completed.append)
    _answer_all_with_keys(qtbot, page, {"ear_protection": "no"})
    ears = _item(page, "ear_protection")
    assert not page.proceed.isEnabled()
    assert ears.stop.isVisibleTo(page) and "earplugs" in ears.stop.text().lower()
    page.proceed.click()
    assert completed == []


def test_the_new_questions_are_asked_once_each(qtbot) -> None:
    page = _page(qtbot)
    ids = [i.item_id for i in page.items]
    assert len(ids) == len(set(ids))
    text = " ".join(i.question.lower() for i in page.items)
    for words in ("seizure", "fall", "head injury", "pregnan", "self-harm", "side effects", "mood", "sleep"):
        assert words in text, words
    assert sum("implant" in i.question.lower() for i in page.items) == 1


def test_a_yes_that_needs_a_physician_stops_the_session(qtbot) -> None:
    page = _page(qtbot)
    completed: list = []
    page.completed.connect(completed.append)
    _answer_all_with_keys(qtbot, page, {"self_harm_thoughts": "yes"})
    item = _item(page, "self_harm_thoughts")
    assert not page.proceed.isEnabled() and "physician" in item.stop.text().lower()
    page.proceed.click()
    assert completed == []


def test_each_question_decides_in_data_what_its_answer_does() -> None:
    items = {i["id"]: i for i in load_json("checklist.json")["items"]}
    assert items["metal_removed"]["block_on"] == ["no"] and items["ear_protection"]["block_on"] == ["no"]
    for held in ("seizure_fall_head_injury", "possible_pregnancy", "self_harm_thoughts", "new_implant"):
        assert items[held]["physician_on"] == ["yes"], held
    assert items["new_side_effects"]["note_on"] == ["yes"]
    for item in items.values():
        if item.get("block_on") or item.get("physician_on"):
            assert item["stop_says"].strip()


def test_typing_y_or_n_in_a_note_does_not_change_the_answer(qtbot) -> None:
    """A note is words: its letters y and n must not re-answer the question (a 'yes' that needs a
    physician turned into a silent 'no' when the note said 'thinking about it')."""
    page = _page(qtbot)
    item = _item(page, "medication_change")
    while QApplication.focusWidget() not in (item.yes, item.no):
        first = next(i for i in page.items if i.answer is None)
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Y if "no" in first.note_on else Qt.Key.Key_N)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Y)
    assert QApplication.focusWidget() is item.note
    qtbot.keyClicks(item.note, "started lithium, no other change")
    assert item.answer == "yes"
    assert item.note.text() == "started lithium, no other change"
