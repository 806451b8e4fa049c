"""Clinic-edited templates and guidance: a mistake is named with its line, and the note is still made."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from console.note.assembly import build_note
from console.note.render import NoteTemplateError, render_note, render_with
from console.ui.note.note_pdf import write_pdf
from resources import SHIPPED

from .recorded import Recorded

BROKEN_SYNTAX = """<html><body>
<p>Patient {{ note.header.patient_id }}</p>
<p>Session {{ note.header.session_number }</p>
</body></html>
"""

MISSPELT_FIELD = """Patient {{ note.header.patient_id }}
Session {{ note.header.session_number }}
Pulses {{ note.today.pulses_deliverd }}
"""


def test_syntax_error_names_the_file_and_line(recorded: Recorded, tmp_path: Path) -> None:
    broken = tmp_path / "note_template.html"
    broken.write_text(BROKEN_SYNTAX, encoding="utf-8")
    note = build_note(recorded.db, recorded.session_id)
    with pytest.raises(NoteTemplateError) as caught:
        render_with(note, broken, "html")
    assert caught.value.line == 3
    assert str(broken) in str(caught.value) and "line 3" in str(caught.value)


def test_misspelt_field_names_its_line(recorded: Recorded, tmp_path: Path) -> None:
    broken = tmp_path / "note_template.txt"
    broken.write_text(MISSPELT_FIELD, encoding="utf-8")
    note = build_note(recorded.db, recorded.session_id)
    with pytest.raises(NoteTemplateError) as caught:
        render_with(note, broken, "txt")
    assert caught.value.line == 3
    assert "pulses_deliverd" in str(caught.value)


def test_sandbox_refuses_reaching_into_python(recorded: Recorded, tmp_path: Path) -> None:
    sneaky = tmp_path / "note_template.txt"
    sneaky.write_text("{{ note.__class__.__init__.__globals__ }}\n", encoding="utf-8")
    with pytest.raises(NoteTemplateError, match="line 1"):
        render_with(build_note(recorded.db, recorded.session_id), sneaky, "txt")


def test_broken_clinic_template_falls_back_to_the_default(recorded: Recorded, clinic_resources: Path,
                                                          tmp_path: Path, qapp) -> None:
    (clinic_resources / "note_template.html").write_text(BROKEN_SYNTAX, encoding="utf-8")
    note = build_note(recorded.db, recorded.session_id)
    rendered = render_note(note, "html")
    assert rendered.problem is not None and rendered.problem.line == 3
    assert rendered.template == SHIPPED / "note_template.html"
    assert "Therapist handoff note" in rendered.text
    out = tmp_path / "note.pdf"
    printed = write_pdf(note, out)
    assert printed.problem is not None and "line 3" in str(printed.problem)
    text = " ".join(PdfReader(str(out)).pages[0].extract_text().split())
    assert "600 of 600 pulses" in text  # the default template made a full note


def test_a_good_clinic_template_is_used(recorded: Recorded, clinic_resources: Path) -> None:
    (clinic_resources / "note_template.txt").write_text(
        "Riverside note for {{ note.header.patient_id }}: {{ note.today.pulses_delivered }} pulses\n",
        encoding="utf-8")
    rendered = render_note(build_note(recorded.db, recorded.session_id), "txt")
    assert rendered.problem is None
    assert rendered.text == "Riverside note for MRN-20417: 600 pulses\n"


def test_broken_clinic_guidance_falls_back_and_says_so(recorded: Recorded, clinic_resources: Path) -> None:
    (clinic_resources / "note_guidance.json").write_text('{"focus": {"acute": ["a",]}}', encoding="utf-8")
    note = build_note(recorded.db, recorded.session_id)
    assert note.problems and "note_guidance.json" in note.problems[0] and "line 1" in note.problems[0]
    assert note.for_therapist.warnings  # the shipped guidance: its sourced warnings


def test_clinic_guidance_text_is_printed_as_written(recorded: Recorded, clinic_resources: Path) -> None:
    guidance = json.loads((SHIPPED / "note_guidance.json").read_text(encoding="utf-8"))
    guidance["focus"]["acute"] = ["Riverside focus: plan one or two small valued activities"]
    (clinic_resources / "note_guidance.json").write_text(json.dumps(guidance), encoding="utf-8")
    note = build_note(recorded.db, recorded.session_id)
    assert note.for_therapist.focus[0].startswith("Riverside focus: plan one or two small")
    assert "Riverside focus" in render_note(note, "md").text
