"""The embedded broker keeps all its state under var/, never in the working directory."""

from pathlib import Path

from mahome.celery import create_filesystem_broker_folders


def test_filesystem_broker_folders_include_the_control_folder(tmp_path: Path) -> None:
    options = {
        "data_folder_in": str(tmp_path / "queue"),
        "data_folder_out": str(tmp_path / "queue"),
        "processed_folder": str(tmp_path / "processed"),
        "control_folder": str(tmp_path / "control"),
    }
    create_filesystem_broker_folders(options)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["control", "processed", "queue"]
