"""Names vulture cannot see being used: called by click, pluggy, pytest or through a
string table, or fields of data records. Each line is an attribute access vulture counts
as a use; keep a comment saying who uses it.
"""
# ruff: noqa: B018, F821
# mypy: ignore-errors

# click calls these methods and reads these attributes (runcore/cli).
list_commands  # RootGroup, click.Group
get_command  # RootGroup, click.Group
format_options  # PluginCommand, click.Command
format_commands  # RootGroup (commands grouped in --help), click.Group
_.show_default  # click.Option
_.options_metavar  # click.Command

# Command factories named in runcore.cli.main.CORE_COMMANDS (loaded by name).
run_command
create_command
spec_command
ls_command
prune_command

# Fields of /etc/passwd entries (runcore/oci/user.py PasswdEntry): parsed, not all read.
_.gecos
_.home
_.shell

# runcore/task/lifecycle.py TaskRun.started: state kept for debugging and the task split.
_.started

# plugins/seccomp/runcore_seccomp/convert.py: a tuple field unpacked and not used yet
# (the Go-compatibility rewrite of convert.py replaces this code).
zero

# tarfile.TarInfo attributes set when writing test archives.
_.gname
_.pax_headers

# pytest hooks and fixtures (tests/support/fixtures.py), test fakes.
pytest_configure
pytest_collection_modifyitems
pytest_runtest_setup
pytest_sessionfinish
exitstatus
no_leaks
_.deadline_cleared
_.target_digest
_.usable
ttrpc_address
debug_address
frame
