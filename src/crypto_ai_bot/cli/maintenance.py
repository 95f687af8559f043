"""cab-maintenance: backup | rotate --days N | vacuum | integrity | list.

Safe while the bot runs on the same database (online backup API, busy timeout). `--db PATH`
overrides DB_PATH; backups go to BACKUP_DIR (default ./backups).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crypto_ai_bot.adapters.storage.sqlite import maintenance as m
from crypto_ai_bot.cli._common import (
    EXIT_CONFIG,
    EXIT_FAIL,
    EXIT_OK,
    fail,
    human_size,
    print_table,
    settings_or_exit,
)
from crypto_ai_bot.utils.time import iso_utc, now_ms


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cab-maintenance", description="Database backup, rotation, vacuum and integrity check."
    )
    p.add_argument("--db", metavar="PATH", help="database file (default: DB_PATH)")
    p.add_argument("-v", "--verbose", action="store_true", help="show info logs on stderr")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("backup", help="copy the database to BACKUP_DIR/db-YYYYmmdd-HHMMSS.sqlite3")
    rot = sub.add_parser("rotate", help="delete backups older than N days")
    rot.add_argument("--days", type=int, metavar="N",
                     help="keep backups of the last N days (default: BACKUP_RETENTION_DAYS)")
    sub.add_parser("vacuum", help="VACUUM + PRAGMA optimize")
    sub.add_parser("integrity", help="PRAGMA integrity_check (exit 1 when not ok)")
    sub.add_parser("list", help="list backups with sizes and dates")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run one maintenance command; 0 done, 1 failed, 2 bad configuration or a database that
    fails its integrity check (backup refuses it)."""
    args = _parser().parse_args(argv)
    overrides = {"db_path": args.db} if args.db else {}
    settings = settings_or_exit(verbose=args.verbose, **overrides)
    db_path, backup_dir = Path(settings.db_path), Path(settings.backup_dir)
    try:
        if args.command == "backup":
            b = m.backup(db_path, backup_dir, now_ms())
            print(f"backup written: {b.path} ({human_size(b.size)})")
            return EXIT_OK
        if args.command == "rotate":
            return _rotate(backup_dir, args.days, settings.backup_retention_days)
        if args.command == "vacuum":
            v = m.vacuum(db_path)
            print(f"vacuumed {db_path}: {human_size(v.size_before)} -> {human_size(v.size_after)}")
            return EXIT_OK
        if args.command == "integrity":
            r = m.integrity_check(db_path)
            if r.ok:
                print(f"integrity ok: {db_path}")
                return EXIT_OK
            print(f"integrity FAILED: {db_path}")
            for line in r.messages[:20]:
                print(f"  {line}")
            return EXIT_FAIL
        return _list(backup_dir)
    except m.UnsoundDatabase as exc:  # the way back is the operator's: exit 2 as bad input
        print(f"cab-maintenance: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except m.MaintenanceError as exc:
        return fail(str(exc))


def _rotate(backup_dir: Path, days: int | None, default_days: int) -> int:
    if days is None:
        if default_days == 0:
            print("rotation disabled (BACKUP_RETENTION_DAYS=0); pass --days N to rotate")
            return EXIT_OK
        days = default_days
    removed = m.rotate(backup_dir, days, now_ms())
    for b in removed:
        print(f"deleted {b.path} ({iso_utc(b.mtime_ms)} UTC)")
    kept = len(m.list_backups(backup_dir))
    print(f"rotate: deleted {len(removed)} backup(s) older than {days} day(s), kept {kept}")
    return EXIT_OK


def _list(backup_dir: Path) -> int:
    backups = m.list_backups(backup_dir)
    if not backups:
        print(f"no backups in {backup_dir}")
        return EXIT_OK
    rows = [(b.path.name, human_size(b.size), iso_utc(b.mtime_ms)) for b in backups]
    total = sum(b.size for b in backups)
    print_table(f"Backups in {backup_dir} ({len(backups)}, {human_size(total)})",
                ["file", "size", "modified (UTC)"], rows, right=["size"])
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
