"""Settings: one schema, defaults, FILE:LINE:COL problems, the commented example config."""

from datetime import time
from pathlib import Path

import pytest

from reminderd.config import ConfigError, example_config, load_settings, show_config

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "reminderd.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_is_generated_from_the_schema_and_loads() -> None:
    example = ROOT / "config" / "reminderd.example.yaml"
    assert example.read_text(encoding="utf-8") == example_config(), (
        "regenerate: python -c 'from reminderd.config import example_config as e; "
        "print(e(), end=\"\")' > config/reminderd.example.yaml")
    settings = load_settings(example)
    defaults = load_settings(None)
    assert settings.feeds == defaults.feeds
    assert settings.reminders == defaults.reminders
    assert settings.http.export_dir is None and settings.mail.smtp is None


def test_bundled_config_has_the_product_defaults() -> None:
    settings = load_settings(ROOT / "config" / "reminderd.yaml")
    assert settings.plans == ROOT / "plans"  # a folder: one file per document
    assert settings.store_path() == ROOT / "var" / "reminderd.db"
    assert settings.mail.maildir == ROOT / "var" / "outbox"
    assert settings.http.listen == ("127.0.0.1", 8080)
    assert settings.reminders.send_time == time(8, 0)
    assert settings.timezone == "Asia/Ho_Chi_Minh"


def test_every_problem_is_reported_with_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "\n".join([
        "timezone: Asia/Hanoi_City",
        "htp:",
        "  listen: 1.2.3.4:8080",
        "mail:",
        "  smtp: {host: smtp.example, security: maybe, password_env: my password}",
        "reminders:",
        "  send_time: 8:00:00",
        "  lead_workdays: 7",
        "feeds:",
        "  show_spans: yes",
        "  token_rotation: [vhttdl]",
        "workdays:",
        "  extra_off: [31/2/2026]",
        "timezone: UTC",
    ]))
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    text = str(err.value)
    for expected in [
        f"{path}:1:11: 'timezone': 'Asia/Hanoi_City': write an IANA time zone",
        f"{path}:2:1: unknown key 'htp'; did you mean 'http'?",
        f"{path}:5:40: 'mail.smtp.security': 'maybe': write starttls, tls or none",
        # a password pasted where a variable NAME belongs is never echoed back
        f"{path}:5:61: 'mail.smtp.password_env': <11 characters, not shown>: write the NAME",
        f"{path}:7:14: 'reminders.send_time'",
        f"{path}:8:18: 'reminders.lead_workdays' must be a list",
        f"{path}:10:15: 'feeds.show_spans': 'yes': write true or false",
        "write AGENCY_ID=N",
        "February 2026 has 28 days",
        f"{path}:14:1: duplicate key 'timezone' (first at line 1)",
    ]:
        assert expected in text, f"missing {expected!r} in:\n{text}"
    assert "my password" not in text


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    sub = tmp_path / "etc"
    sub.mkdir()
    path = sub / "r.yaml"
    path.write_text("plans: ../data/plans.yaml\nstore: sqlite:///db/r.db\n", encoding="utf-8")
    settings = load_settings(path)
    assert settings.plans == (tmp_path / "data" / "plans.yaml").resolve()
    assert settings.store_path() == (sub / "db" / "r.db").resolve()


def test_missing_and_oversized_config_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config"):
        load_settings(tmp_path / "absent.yaml")
    big = write(tmp_path, "# " + "x" * 2_000_000)
    with pytest.raises(ConfigError, match="the limit is"):
        load_settings(big)


def test_yaml_syntax_error_is_located(tmp_path: Path) -> None:
    path = write(tmp_path, "http:\n  listen: [1\n")
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert str(err.value).startswith(f"{path}:3:1: YAML syntax")


def test_show_config_says_where_each_value_came_from(tmp_path: Path) -> None:
    path = write(tmp_path, "timezone: Asia/Bangkok\nfeeds:\n  refresh_hours: 6\n")
    env = {"REMINDERD_FEED_SECRET": "s3cret-value", "REMINDERD_RETRY_TICK_SECONDS": "0.5"}
    lines = show_config(load_settings(path, env))
    assert f"timezone = Asia/Bangkok   (file {path}:1:11)" in lines
    assert f"feeds.refresh_hours = 6   (file {path}:3:18)" in lines
    assert "feeds.horizon_days_ahead = 730   (default)" in lines
    assert "feeds.secret = (set, hidden)   (environment REMINDERD_FEED_SECRET)" in lines
    assert "delivery.retry_tick_seconds = 0.5   (environment REMINDERD_RETRY_TICK_SECONDS)" \
        in lines
    assert not any("s3cret" in line for line in lines)


def test_environment_settings_are_checked_and_never_read_from_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(None, {"REMINDERD_RETRY_TICK_SECONDS": "soon"})
    assert str(err.value).startswith("<environment REMINDERD_RETRY_TICK_SECONDS>:1:1: ")
    path = write(tmp_path, "feeds:\n  secret: in-the-file\n")
    with pytest.raises(ConfigError, match="set in the environment only: REMINDERD_FEED_SECRET"):
        load_settings(path, {})


def test_cross_field_and_header_problems_point_at_the_field(tmp_path: Path) -> None:
    path = write(tmp_path, "delivery:\n  send_timeout_seconds: 200\n"
                           'mail:\n  from: "Sở Ngoại vụ\u2028 <a@b.example>"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path, {})
    text = str(err.value)
    assert f"{path}:4:9: 'mail.from'" in text and "U+2028" in text
    path = write(tmp_path, "delivery:\n  send_timeout_seconds: 200\n")
    with pytest.raises(ConfigError) as err:
        load_settings(path, {})
    assert str(err.value).startswith(f"{path}:2:25: delivery.lease_seconds must be at least")
