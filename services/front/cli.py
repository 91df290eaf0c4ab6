"""The front's command line: `wspolnota user add|set LOGIN` and the first start of `wspolnota run` (the `admin`
account), both on the accounts store of the front's bootstrap."""
from __future__ import annotations

from services.front.accounts import AuthError, AuthStore, ensure_first_admin
from services.front.bootstrap import bootstrap
from wspolnota import config


def user_command(action: str, login: str, role: str | None, name: str | None) -> None:
    """`wspolnota user add|set LOGIN`: password from WSPOLNOTA_USER_PASSWORD or a prompt."""
    import getpass

    if action == "add" and not role:
        raise SystemExit("--role is required for `user add`")
    store = _store()
    password = config.get("WSPOLNOTA_USER_PASSWORD") or getpass.getpass("Hasło (co najmniej 12 znaków): ")
    try:
        if action == "add":
            store.add(login, role or "", password, name or "")
        else:
            store.update(login, password=password, role=role)
    except AuthError as err:
        raise SystemExit(str(err)) from None
    finally:
        store.dispose()
    print(f"{login}: {'dodano' if action == 'add' else 'zmieniono'} (rola {role or 'bez zmian'})")


def first_admin() -> None:
    """An empty accounts database gets `admin` (WSPOLNOTA_ADMIN_PASSWORD, else a one-time password printed)."""
    store = _store()
    generated = ensure_first_admin(store, config.get("WSPOLNOTA_ADMIN_PASSWORD") or None)
    store.dispose()
    if generated:
        print(f"\n  Konto administratora / admin account:  admin  {generated}\n"
              "  (hasło jednorazowe — zmień je na /auth/users/admin)\n", flush=True)


def _store() -> AuthStore:
    """The accounts store of the front's bootstrap, migrated."""
    store: AuthStore = bootstrap().db  # type: ignore[assignment]
    store.migrate()
    return store
