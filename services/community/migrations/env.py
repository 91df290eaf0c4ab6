from alembic import context

from wspolnota.migrations import run_env

run_env(context)
