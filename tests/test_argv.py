"""The one argv parser and the option tables (lintimg.dockerfile.clis), from each program's documented CLI.

Every case cites the man page or ``--help`` it rests on; none is taken from a peer's test suite.
"""
from __future__ import annotations

import pytest

from lintimg.dockerfile.clis import PROGRAMS, WRAPPERS, cli_of
from lintimg.dockerfile.shell import command_from_argv, parse_argv, parse_script


def cmd(script: str):
    """The first command of a shell script."""
    return parse_script(script).commands[0]


@pytest.mark.parametrize("script,subcommand,operands", [
    # apt-get(8): -o/--option, -t/--target-release, -c/--config-file take a value; -q=2 attaches a level.
    ("apt-get -o Dpkg::Options::=--force-confold install -y curl", "install", ["install", "curl"]),
    ("apt-get -t bookworm-backports install curl", "install", ["install", "curl"]),
    ("apt-get install --option=Acquire::Retries=3 -tbookworm curl", "install", ["install", "curl"]),
    ("apt-get -q=2 install curl", "install", ["install", "curl"]),
    # apk(8) global options and apk-add(8): --repositories-file, --cache-max-age, --timeout, -X, -t/--virtual.
    ("apk --repositories-file /etc/apk/r add --no-cache curl", "add", ["add", "curl"]),
    ("apk add --cache-max-age 60 --timeout 30 -X http://r/x -t .deps gcc", "add", ["add", "gcc"]),
    # yum(8)/dnf(8): --disableplugin, --downloaddir, --forcearch, --setopt with a space.
    ("yum install -y --disableplugin fastestmirror httpd", "install", ["install", "httpd"]),
    ("dnf --setopt install_weak_deps=False --forcearch aarch64 install -y httpd", "install", ["install", "httpd"]),
    ("tdnf --releasever 5.0 install -y curl", "install", ["install", "curl"]),
    ("microdnf --setopt tsflags=nodocs install curl", "install", ["install", "curl"]),
    # zypper(8): -D is --reposd-dir DIR before the command, --dry-run after it; install --from ALIAS.
    ("zypper -D /etc/r -n install --from repo-oss curl", "install", ["install", "curl"]),
    ("zypper -n install -D curl", "install", ["install", "curl"]),
    # pip install --help (23.2): --root-user-action, --keyring-provider, --use-feature, --report, -i.
    ("pip install --root-user-action ignore --keyring-provider import --use-feature truststore flask", "install", ["install", "flask"]),
    ("pip --timeout 60 install --report /tmp/r.json -i https://x/simple flask", "install", ["install", "flask"]),
    # npm config definitions: --loglevel, --omit, --install-strategy, --fetch-retries take a value; -g is a switch.
    ("npm install --loglevel verbose --omit dev --install-strategy hoisted -g --fetch-retries 5 express", "install", ["install", "express"]),
    ("npm -C /app install --save-exact express", "install", ["install", "express"]),
    ("npm install -dd express", "install", ["install", "express"]),
    # yarn (1.22) --cwd DIR; pnpm -C/--dir DIR.
    ("yarn --cwd /app install --frozen-lockfile", "install", ["install"]),
    ("pnpm -C /app add express", "add", ["add", "express"]),
    # gem help install: -i/--install-dir, -n/--bindir, -s/--source take a value.
    ("gem install --install-dir /opt/gems -n /usr/local/bin --source https://rubygems.org bundler", "install", ["install", "bundler"]),
    # go help build: -tags, -ldflags take a value (one dash); flags end at the first package.
    ("go install -tags netgo,osusergo -ldflags '-s -w' example.com/tool@v1.2.3", "install", ["install", "example.com/tool@v1.2.3"]),
    ("go run example.com/tool@v1 -tags x", "run", ["run", "example.com/tool@v1", "-tags", "x"]),
    # cargo install --help: --version, --root, --git take a value.
    ("cargo install --version 1.2.3 --root /usr/local ripgrep", "install", ["install", "ripgrep"]),
    # conda install --help: -c/--channel, -n/--name take a value.
    ("conda install -c conda-forge -n base -y numpy=1.26", "install", ["install", "numpy=1.26"]),
    # composer help: -d/--working-dir takes a value.
    ("composer -d /app require monolog/monolog:^3.0", "require", ["require", "monolog/monolog:^3.0"]),
])
def test_option_values_are_never_operands(script, subcommand, operands):
    c = cmd(script)
    assert c.subcommand == subcommand
    assert c.operands == operands


def test_short_options_cluster_and_attach_their_value():
    c = cmd("apt-get -qqy install curl")  # -qqy = -q -q -y
    assert c.flag_count("q") == 2 and c.has_flag("y")
    c = cmd("apk add -t.build-deps gcc")  # -tNAME: the rest of the cluster is the value
    assert c.flag_value("t", "virtual") == ".build-deps" and c.operands == ["add", "gcc"]
    c = cmd("apt-get install -- -weird-name")  # "--" ends the options
    assert c.operands == ["install", "-weird-name"]


def test_pacman_operations_are_options():
    # pacman(8): no subcommand; -S/-U select the operation, --ignore PKG and -r/--root DIR take a value.
    c = cmd("pacman -Syu --noconfirm --ignore linux -r /mnt nginx")
    assert c.operands == ["nginx"] and c.has_flag("S") and c.has_flag("y") and c.has_flag("noconfirm")


def test_unknown_programs_read_every_option_as_a_switch():
    c = cmd("mytool --mode fast input.txt")
    assert c.operands == ["fast", "input.txt"]
    # but a rule can still ask for what follows an option of a program it knows nothing about
    assert c.flag_value("mode") == "fast"


@pytest.mark.parametrize("script,name,args,wrapped", [
    ("sudo -u root apt-get install -y curl", "apt-get", ["install", "-y", "curl"], ["sudo"]),  # sudo(8) -u user
    ("sudo -E DEBIAN_FRONTEND=noninteractive apt-get install x", "apt-get", ["install", "x"], ["sudo"]),  # VAR=value
    ("nice -n 10 apt-get install x", "apt-get", ["install", "x"], ["nice"]),  # nice -n N
    ("nice --adjustment=5 make", "make", [], ["nice"]),
    ("timeout -s KILL 300 apt-get install x", "apt-get", ["install", "x"], ["timeout"]),  # timeout [-s SIG] DURATION CMD
    ("timeout --kill-after=5 60 make all", "make", ["all"], ["timeout"]),
    ("env -u HTTP_PROXY A=1 pip install x", "pip", ["install", "x"], ["env"]),  # env -u NAME, NAME=value
    ("gosu app pip install x", "pip", ["install", "x"], ["gosu"]),  # gosu USER COMMAND
    ("su-exec app:app pip install x", "pip", ["install", "x"], ["su-exec"]),  # su-exec USER[:GROUP] COMMAND
    ("chroot --userspec=1:1 /srv/root make", "make", [], ["chroot"]),  # chroot [opts] NEWROOT CMD
    ("xargs -n 1 -P 4 rm -f", "rm", ["-f"], ["xargs"]),  # xargs -n N -P N CMD
    ("stdbuf -o L -e 0 make", "make", [], ["stdbuf"]),
    ("ionice -c 3 -n 7 make", "make", [], ["ionice"]),
    ("tini -p SIGKILL -- node app.js", "node", ["app.js"], ["tini"]),
    ("sudo -u app nice -n 5 npm install x", "npm", ["install", "x"], ["sudo", "nice"]),
])
def test_wrappers_run_the_command_after_their_own_options(script, name, args, wrapped):
    c = cmd(script)
    assert (c.name, c.args, c.wrapped_by) == (name, args, wrapped)


def test_lookups_are_not_calls():
    # POSIX `command -v NAME` / `-V` print how NAME would be found; they do not run it.
    assert cmd("command -v ps").name == "command"
    assert cmd("command -V ps").name == "command"
    assert cmd("command ps aux").name == "ps"
    # a wrapper with nothing to run stays itself
    assert cmd("sudo -l").name == "sudo"


def test_exec_form_goes_through_the_same_constructor():
    c = command_from_argv(["sudo", "apt-get", "install", "curl"])
    assert c is not None and (c.name, c.subcommand, c.wrapped_by) == ("apt-get", "install", ["sudo"])
    # a program literally named "sudo yum" is not yum
    c = command_from_argv(["sudo yum", "install", "x"])
    assert c is not None and c.name == "sudo yum"


def test_tables_are_well_formed():
    names = [n for cli in PROGRAMS for n in cli.names]
    assert len(names) == len(set(names)), "a program is described twice"
    for cli in PROGRAMS:
        assert not (cli.value & cli.optional), f"{cli.names}: an option both takes and may take a value"
        assert all(" " not in n and not n.startswith("-") for n in cli.value | cli.optional | cli.leading)
    assert all(w.runs is not None for w in WRAPPERS)
    assert cli_of("pip3.12") is cli_of("pip") and cli_of("no-such-tool").names == ()


def test_parse_records_where_each_word_is():
    p = parse_argv(["apt-get", "-o", "A=1", "install", "curl"], cli_of("apt-get"))
    assert [(o.name, o.value, o.index) for o in p.options] == [("o", "A=1", 1)]
    assert p.operands == (("install", 3), ("curl", 4))


def test_editable_install_of_the_context_is_still_a_dependency_install():
    # pip install -e <path>: the path is the value of -e, and `-e .` installs the project's dependencies
    from lintimg.context.cacheorder import dependency_install

    assert dependency_install(cmd("pip install -e .")) is not None
