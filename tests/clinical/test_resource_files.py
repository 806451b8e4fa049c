"""The clinic's resource files: every shipped one passes its schema, a clinic's typo is named by file and
field when the file is read (at start-up), and each file is read once, not at every use."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest

from console.clinic import protocols
from console.resource_data import ResourceError, clear_cache, load, shipped_names, validate_all
from console.resource_data import lists as clinic_lists
from console.resource_data.loader import schema_path
from console.startup import StartupFailed, start
from resources import SHIPPED


@pytest.fixture
def clinic_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clinic's own resources folder (TMS_CONSOLE_RESOURCES), empty until a test copies a file there."""
    folder = tmp_path / "clinic-resources"
    folder.mkdir()
    monkeypatch.setenv("TMS_CONSOLE_RESOURCES", str(folder))
    return folder


def _clinic_copy(folder: Path, name: str, change) -> Path:
    data = json.loads((SHIPPED / name).read_text(encoding="utf-8"))
    change(data)
    path = folder / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize("name", shipped_names())
def test_every_shipped_resource_file_passes_its_schema(name: str) -> None:
    schema = json.loads(schema_path(name).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(json.loads((SHIPPED / name).read_text(encoding="utf-8")), schema)
    assert load(name) == json.loads((SHIPPED / name).read_text(encoding="utf-8"))


def test_the_shipped_files_are_the_ones_with_schemas() -> None:
    assert "checklist.json" in shipped_names()
    schemas = (SHIPPED / "schemas").glob("*.schema.json")
    assert sorted(p.name.removesuffix(".schema.json") + ".json" for p in schemas) == shipped_names()


def test_a_missing_checklist_question_names_file_and_field(clinic_folder: Path) -> None:
    _clinic_copy(clinic_folder, "checklist.json", lambda d: d["items"][2].pop("question"))
    with pytest.raises(ResourceError) as caught:
        load("checklist.json")
    assert str(caught.value) == (
        f"{clinic_folder / 'checklist.json'}: items[2].question: 'question' is a required property"
    )


def test_a_wrong_type_is_named_with_its_path(clinic_folder: Path) -> None:
    _clinic_copy(clinic_folder, "protocols.json", lambda d: d["presets"]["itbs"].update(trains="twenty"))
    with pytest.raises(ResourceError, match=r"protocols\.json: presets\.itbs\.trains: 'twenty' is not of"):
        load("protocols.json")


def test_a_file_that_is_not_json_names_the_line(clinic_folder: Path) -> None:
    (clinic_folder / "session_lists.json").write_text('{"pause_reasons": ["a",]}', encoding="utf-8")
    with pytest.raises(ResourceError, match=r"session_lists\.json: line 1 column 24"):
        load("session_lists.json")


def test_a_shipped_file_is_named_as_resources_slash_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from console.resource_data import loader

    monkeypatch.setattr(loader, "problems", lambda data, name: ["items[0].id: '' is too short"])
    clear_cache()
    try:
        with pytest.raises(ResourceError, match=r"^resources/checklist\.json: items\[0\]\.id: '' is too sho"):
            load("checklist.json")
    finally:
        clear_cache()


def test_start_up_stops_on_a_broken_clinic_file_before_opening_the_database(
        clinic_folder: Path, tmp_path: Path) -> None:
    _clinic_copy(clinic_folder, "checklist.json", lambda d: d["items"][2].pop("question"))
    db_path = tmp_path / "clinic.db"
    with pytest.raises(StartupFailed, match=r"checklist\.json: items\[2\]\.question: 'question' is a requ"):
        start(db_path)
    assert not db_path.exists()


def test_a_file_is_read_once_and_callers_cannot_change_it(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_cache()
    reads: list[Path] = []
    original = Path.read_text

    def counting(self: Path, *args, **kwargs) -> str:
        reads.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", counting)
    first = clinic_lists.checklist_items()
    first[0]["question"] = "changed by a caller"
    validate_all()
    again = clinic_lists.checklist_items()
    assert again[0]["question"] != "changed by a caller"
    assert [p.name for p in reads].count("checklist.json") == 1


def test_an_edited_clinic_file_is_read_again(clinic_folder: Path) -> None:
    path = _clinic_copy(clinic_folder, "session_lists.json", lambda d: d.update(moods=["Calm"]))
    assert clinic_lists.moods() == ["Calm"]
    data = json.loads(path.read_text(encoding="utf-8"))
    data["moods"] = ["Calm", "Sleepy"]
    path.write_text(json.dumps(data), encoding="utf-8")
    later = path.stat().st_mtime_ns + 2_000_000_000  # a person's edit comes a while later
    os.utime(path, ns=(later, later))
    assert clinic_lists.moods() == ["Calm", "Sleepy"]


def test_lists_the_clinic_left_out_fall_back_to_other(clinic_folder: Path) -> None:
    _clinic_copy(clinic_folder, "session_lists.json", lambda d: d.pop("not_started_reasons"))
    assert clinic_lists.not_started_reasons() == ["Other"]
    assert clinic_lists.early_start_reasons() == [str(x) for x in json.loads(
        (SHIPPED / "session_lists.json").read_text(encoding="utf-8"))["early_start_reasons"]]


def test_protocol_names_come_from_the_clinics_presets(clinic_folder: Path) -> None:
    _clinic_copy(clinic_folder, "protocols.json", lambda d: d["presets"]["itbs"].update(name="Our iTBS"))
    assert protocols.protocol_name("itbs") == "Our iTBS"
    assert protocols.protocol_name("not-a-preset") == "not-a-preset"
    assert protocols.presets()["itbs"].spec == protocols.preset("itbs")
