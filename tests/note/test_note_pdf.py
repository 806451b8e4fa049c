"""The note as a PDF of real text: read back with pypdf, counted in pages."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from console.note.assembly import build_note
from console.people.user import User
from console.review.signoff import sign_session
from console.ui.note.note_pdf import chart_image, write_pdf

from .conftest import SUPERVISOR_PASSWORD
from .recorded import START, Recorded, add_patient_and_course, make_db, record_session


def pdf_pages(path: Path) -> list[str]:
    """Each page's text, whitespace folded (pypdf breaks lines where the layout did)."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(str(path)).pages]


def test_pdf_holds_the_facts_and_not_yet_reviewed(recorded: Recorded, tmp_path: Path, qapp) -> None:
    out = tmp_path / "note.pdf"
    printed = write_pdf(build_note(recorded.db, recorded.session_id), out)
    assert printed.pages == 1 and printed.problem is None
    pages = pdf_pages(out)
    assert len(pages) == 1  # a typical session fits on one page
    text = pages[0]
    assert "Session 12 of 36" in text
    assert "600 of 600 pulses" in text
    assert "Headache: 3/10" in text and "Scalp discomfort: 2/10" in text
    assert "Not yet reviewed" in text
    assert "Patient MRN-20417" in text  # the painted page header
    assert "I went for a walk with my sister" in text
    assert "19 → 11: down 42 % from baseline" in text
    assert text.index("Not yet reviewed") < text.index("Therapist's reply") < text.index("Name, date")


def test_pdf_after_sign_off_shows_name_time_and_meaning(recorded: Recorded, supervisor: User,
                                                        tmp_path: Path, qapp) -> None:
    signature = sign_session(recorded.db, supervisor, recorded.session_id, SUPERVISOR_PASSWORD, "reviewed",
                             "Fine to continue")
    out = tmp_path / "signed.pdf"
    note = build_note(recorded.db, recorded.session_id)
    write_pdf(note, out)
    text = pdf_pages(out)[0]
    assert "Not yet reviewed" not in text
    sig = note.review.signatures[0]
    assert sig.signed_at and sig.signed_at[-5:-3].isdigit()  # a local "HH:MM"
    assert f"Reviewed by Dr. Priya Natarajan, {sig.signed_at}" in text
    assert "Fine to continue" in text
    assert signature.signer_name == "Dr. Priya Natarajan"


def test_a_long_note_flows_onto_page_two_with_the_patient_id_on_each(tmp_path: Path, qapp) -> None:
    db = make_db(tmp_path / "long.db")
    patient, course = add_patient_and_course(db)
    events = [("side_effect", "headache", {"rating": 2 + i % 5,
                                           "note": f"entry {i}: pressure behind the left eye, came and went"})
              for i in range(18)]
    events += [("note", None, {"text": f"Note {i}: patient asked about the next appointment and parking "
                                       "permits; answered and gave the leaflet."}) for i in range(14)]
    session = record_session(db, patient, course, number=5, started=START, events=events)
    out = tmp_path / "long.pdf"
    printed = write_pdf(build_note(db, session), out)
    pages = pdf_pages(out)
    assert printed.pages == len(pages) >= 2
    for number, text in enumerate(pages, start=1):
        assert "Patient MRN-20417 (A.B.)" in text
        assert f"page {number} of {len(pages)}" in text
    everything = " ".join(pages)
    assert all(f"entry {i}:" in everything for i in range(18))  # nothing cut at the page break
    assert all(f"Note {i}:" in everything for i in range(14))
    assert "Therapist's reply" in pages[-1] and "Name, date" in pages[-1]  # the reply room is never cut
    db.close()


@pytest.mark.parametrize(("page", "width_pt"), [("a4", 595), ("letter", 612)])
def test_page_sizes(recorded: Recorded, tmp_path: Path, qapp, page: str, width_pt: int) -> None:
    out = tmp_path / f"{page}.pdf"
    write_pdf(build_note(recorded.db, recorded.session_id), out, page)
    reader = PdfReader(str(out))
    assert len(reader.pages) == 1
    assert round(float(reader.pages[0].mediabox.width)) == width_pt


def test_chart_draws_series_and_lines(recorded: Recorded, qapp) -> None:
    tr = build_note(recorded.db, recorded.session_id).trajectory
    image = chart_image(tr, (330, 150), scale=1)
    assert (image.width(), image.height()) == (330, 150)
    colours = {image.pixelColor(x, y).name() for x in range(0, 330, 2) for y in range(0, 150, 2)}
    assert "#2b5f8a" in colours  # the PHQ-9 series is drawn
    assert len(colours) > 5


def test_unwritable_place_is_an_error_not_a_crash(recorded: Recorded, tmp_path: Path, qapp) -> None:
    with pytest.raises(OSError):
        write_pdf(build_note(recorded.db, recorded.session_id), tmp_path / "no-such-folder" / "n.pdf")


def test_note_of_a_session_still_recording_says_so(tmp_path: Path, qapp) -> None:
    db = make_db(tmp_path / "live.db")
    patient, course = add_patient_and_course(db)
    session = db["sessions"].insert({
        "uuid": "u-live", "patient_id": patient, "course_id": course, "number_in_course": 1,
        "status": "recording", "started_at": (START + timedelta(minutes=1)).isoformat(), "device_url": "sim://",
        "pulses_planned": 600, "pulses_delivered": 120,
    }).last_pk
    out = tmp_path / "live.pdf"
    write_pdf(build_note(db, session), out)
    text = pdf_pages(out)[0]
    assert "In progress when this note was made" in text and "120 of 600 pulses" in text
    db.close()
