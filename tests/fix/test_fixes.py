"""Each rule's fix: the exact text it makes, written out by hand, and when it is not offered.

Every ``fixes_to`` also checks that fixing the result again changes nothing and that no fix is
refused or leaves its finding (tests/fixspec.py).
"""
from tests.fixspec import fixes_to, not_fixed, run_fix

# --- LI201 instruction casing ------------------------------------------------------------------


def test_casing_follows_the_majority():
    fixes_to("FROM a:1\nrun x\nRUN y\n", "FROM a:1\nRUN x\nRUN y\n", only="LI201")
    fixes_to("from a:1\nrun x\nRUN y\n", "from a:1\nrun x\nrun y\n", only="LI201")
    fixes_to("FROM a:1\nFrom b:1\n  cmd [\"x\"]\n", "FROM a:1\nFROM b:1\n  CMD [\"x\"]\n", only="LI201")


def test_casing_with_crlf_and_escape_directive():
    fixes_to("# escape=`\r\nFROM a:1\r\nrun x `\r\n  y\r\nRUN z\r\n", "# escape=`\r\nFROM a:1\r\nRUN x `\r\n  y\r\nRUN z\r\n", only="LI201")


# --- LI113 FROM ... AS casing -----------------------------------------------------------------


def test_as_follows_from():
    fixes_to("FROM a:1 as build\n", "FROM a:1 AS build\n", only="LI113")
    fixes_to("from a:1 AS build\n", "from a:1 as build\n", only="LI113")
    fixes_to("FROM a:1 \\\n  as build\n", "FROM a:1 \\\n  AS build\n", only="LI113")


# --- LI205 MAINTAINER ---------------------------------------------------------------------------


def test_maintainer_becomes_a_label_with_the_text_kept_literally():
    fixes_to("FROM a:1\nMAINTAINER Jane Doe <jane@example.com>\n",
             "FROM a:1\nLABEL org.opencontainers.image.authors='Jane Doe <jane@example.com>'\n", only="LI205")
    fixes_to("FROM a:1\nMAINTAINER jane@example.com\n", "FROM a:1\nLABEL org.opencontainers.image.authors=jane@example.com\n", only="LI205")
    # $ is literal in MAINTAINER; single quotes keep it literal in LABEL.
    fixes_to("FROM a:1\nmaintainer O$car\n", "FROM a:1\nlabel org.opencontainers.image.authors='O$car'\n", only="LI205")
    # A quote of its own: double quotes, with ", $ and the escape character escaped.
    fixes_to("FROM a:1\nMAINTAINER Jane O'Hara \"$x\"\n",
             "FROM a:1\nLABEL org.opencontainers.image.authors=\"Jane O'Hara \\\"\\$x\\\"\"\n", only="LI205")
    fixes_to("# escape=`\nFROM a:1\nMAINTAINER it's $me\n",
             "# escape=`\nFROM a:1\nLABEL org.opencontainers.image.authors=\"it's `$me\"\n", only="LI205")


def test_maintainer_across_a_continuation():
    fixes_to("FROM a:1\nMAINTAINER Jane \\\n  Doe\n", "FROM a:1\nLABEL org.opencontainers.image.authors='Jane   Doe'\n", only="LI205")


# --- LI203 legacy ENV/LABEL ---------------------------------------------------------------------


def test_legacy_env_gets_an_equals_sign():
    fixes_to("FROM a:1\nENV PATH /opt/bin:$PATH\n", "FROM a:1\nENV PATH=/opt/bin:$PATH\n", only="LI203")
    fixes_to("FROM a:1\nLABEL maintainer   me\n", "FROM a:1\nLABEL maintainer=me\n", only="LI203")
    fixes_to('FROM a:1\nENV A "x y"\n', 'FROM a:1\nENV A="x y"\n', only="LI203")


def test_legacy_value_of_several_words_is_quoted_whole():
    fixes_to("FROM a:1\nENV JAVA_OPTS -Xmx1g  -Xms1g $EXTRA\n", 'FROM a:1\nENV JAVA_OPTS="-Xmx1g  -Xms1g $EXTRA"\n', only="LI203")
    fixes_to("FROM a:1\nENV A one \\\n    two\n", 'FROM a:1\nENV A="one \\\n    two"\n', only="LI203")


def test_legacy_in_onbuild_and_crlf():
    fixes_to("FROM a:1\r\nONBUILD ENV A b\r\n", "FROM a:1\r\nONBUILD ENV A=b\r\n", only="LI203")


def test_legacy_value_with_quotes_of_its_own_is_not_fixed():
    not_fixed("FROM a:1\nENV A 'x' \"y\"\n", "LI203")
    not_fixed("FROM a:1\nENV A \\\n  b\n", "LI203")  # key and value on different lines


# --- apt ------------------------------------------------------------------------------------------


def test_apt_get_yes_goes_after_install():
    fixes_to("FROM debian:12\nRUN apt-get install curl\n", "FROM debian:12\nRUN apt-get install -y curl\n", only="LI302")
    fixes_to("FROM debian:12\nRUN apt-get update \\\n && apt-get -q install \\\n    curl\n",
             "FROM debian:12\nRUN apt-get update \\\n && apt-get -q install -y \\\n    curl\n", only="LI302")
    fixes_to("FROM debian:12\nRUN sudo -E env DEBIAN_FRONTEND=noninteractive apt-get install curl\n",
             "FROM debian:12\nRUN sudo -E env DEBIAN_FRONTEND=noninteractive apt-get install -y curl\n", only="LI302")


def test_apt_get_yes_in_heredoc_onbuild_escape_and_crlf():
    fixes_to("FROM debian:12\nRUN <<EOF\nset -e\napt-get install curl\nEOF\n",
             "FROM debian:12\nRUN <<EOF\nset -e\napt-get install -y curl\nEOF\n", only="LI302")
    fixes_to("FROM debian:12\nRUN <<-EOF\n\t\tapt-get install curl\n\tEOF\n",
             "FROM debian:12\nRUN <<-EOF\n\t\tapt-get install -y curl\n\tEOF\n", only="LI302")
    fixes_to("FROM debian:12\nONBUILD RUN apt-get update && \\\n  apt-get install curl\n",
             "FROM debian:12\nONBUILD RUN apt-get update && \\\n  apt-get install -y curl\n", only="LI302")
    fixes_to("# escape=`\nFROM debian:12\nRUN apt-get update && `\n  apt-get install curl\n",
             "# escape=`\nFROM debian:12\nRUN apt-get update && `\n  apt-get install -y curl\n", only="LI302")
    fixes_to("FROM debian:12\r\nRUN apt-get install \\\r\n  curl\r\n", "FROM debian:12\r\nRUN apt-get install -y \\\r\n  curl\r\n", only="LI302")


def test_comment_lines_inside_a_continuation_do_not_shift_the_edit():
    fixes_to("FROM debian:12\nRUN apt-get update \\\n# the tools\n  && apt-get install curl\n",
             "FROM debian:12\nRUN apt-get update \\\n# the tools\n  && apt-get install -y curl\n", only="LI302")


def test_non_ascii_before_the_edit():
    fixes_to("FROM debian:12\nRUN echo 'déjà vu' && apt-get install curl\n",
             "FROM debian:12\nRUN echo 'déjà vu' && apt-get install -y curl\n", only="LI302")


def test_no_install_recommends_is_unsafe():
    text = "FROM debian:12\nRUN apt-get install -y curl\n"
    assert run_fix(text, only="LI303").fixed == text
    fixes_to(text, "FROM debian:12\nRUN apt-get install --no-install-recommends -y curl\n", only="LI303", unsafe=True)


def test_apt_lists_removed_at_the_end_of_the_run():
    fixes_to("FROM debian:12\nRUN apt-get update && apt-get install -y curl\n",
             "FROM debian:12\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n", only="LI301")
    fixes_to("FROM debian:12\nRUN apt-get update \\\n    && apt-get install -y curl   \n",
             "FROM debian:12\nRUN apt-get update \\\n    && apt-get install -y curl && rm -rf /var/lib/apt/lists/*   \n", only="LI301")
    fixes_to("FROM debian:12\nRUN <<EOF\napt-get update\napt-get install -y curl\n\nEOF\n",
             "FROM debian:12\nRUN <<EOF\napt-get update\napt-get install -y curl && rm -rf /var/lib/apt/lists/*\n\nEOF\n", only="LI301")


def test_apt_lists_not_removed_when_a_later_run_needs_them():
    not_fixed("FROM debian:12\nRUN apt-get update && apt-get install -y curl\nRUN apt-get install -y git\n", "LI301", unsafe=True)
    not_fixed("FROM debian:12\nRUN apt-get update\nRUN apt-get install -y git\n", "LI301", unsafe=True)
    not_fixed("FROM debian:12 AS a\nRUN apt-get update && apt-get install -y curl\nFROM a\nONBUILD RUN apt-cache policy curl\n",
              "LI301", unsafe=True)
    # A later RUN that updates first does not need them.
    fixes_to("FROM debian:12 AS base\nRUN apt-get update && apt-get install -y curl\nFROM base\nRUN apt-get update && apt-get install -y git\n",
             "FROM debian:12 AS base\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\nFROM base\n"
             "RUN apt-get update && apt-get install -y git && rm -rf /var/lib/apt/lists/*\n", only="LI301")


def test_apt_lists_not_fixed_where_appending_would_change_the_script():
    not_fixed("FROM debian:12\nRUN apt-get update && apt-get install -y curl # done\n", "LI301", unsafe=True)
    not_fixed("FROM debian:12\nRUN apt-get update && apt-get install -y curl &\n", "LI301", unsafe=True)


# --- apk, pip, yum/dnf/zypper ---------------------------------------------------------------------


def test_apk_no_cache():
    fixes_to("FROM alpine:3.20\nRUN apk add curl\n", "FROM alpine:3.20\nRUN apk add --no-cache curl\n", only="LI311")
    fixes_to("FROM alpine:3.20\nRUN apk update && apk --update add \\\n  curl\n",
             "FROM alpine:3.20\nRUN apk update && apk --update add --no-cache \\\n  curl\n", only="LI311")


def test_pip_no_cache_dir():
    fixes_to("FROM python:3.12\nRUN pip install requests==2.32.3\n", "FROM python:3.12\nRUN pip install --no-cache-dir requests==2.32.3\n", only="LI331")
    fixes_to("FROM python:3.12\nRUN python3 -m pip install -U pip==24.0 && pip3 install -r req.txt\n",
             "FROM python:3.12\nRUN python3 -m pip install --no-cache-dir -U pip==24.0 && pip3 install --no-cache-dir -r req.txt\n", only="LI331")


def test_rpm_family_yes_and_clean():
    fixes_to("FROM centos:7\nRUN yum install httpd-2.4\n", "FROM centos:7\nRUN yum install -y httpd-2.4\n", only="LI315")
    fixes_to("FROM centos:7\nRUN yum install -y httpd-2.4\n", "FROM centos:7\nRUN yum install -y httpd-2.4 && yum clean all\n", only="LI316")
    fixes_to("FROM fedora:40\nRUN dnf install x-1\n", "FROM fedora:40\nRUN dnf install -y x-1\n", only="LI318")
    fixes_to("FROM fedora:40\nRUN tdnf install -y x-1\n", "FROM fedora:40\nRUN tdnf install -y x-1 && tdnf clean all\n", only="LI319")
    fixes_to("FROM ubi:9\nRUN microdnf install -y x-1\n", "FROM ubi:9\nRUN microdnf install -y x-1 && microdnf clean all\n", only="LI321")
    fixes_to("FROM opensuse/leap:15\nRUN zypper install x=1\n", "FROM opensuse/leap:15\nRUN zypper --non-interactive install x=1\n", only="LI322")
    fixes_to("FROM opensuse/leap:15\nRUN zypper -n in x=1\n", "FROM opensuse/leap:15\nRUN zypper -n in x=1 && zypper clean\n", only="LI324")


# --- LI362 useradd -l, LI341 wget --------------------------------------------------------------------


def test_useradd_long_uid():
    fixes_to("FROM debian:12\nRUN useradd -u 123456 app\n", "FROM debian:12\nRUN useradd -l -u 123456 app\n", only="LI362")


def test_wget_quiet_by_what_runs_it():
    fixes_to("FROM debian:12\nRUN wget https://x/y.tgz\n", "FROM debian:12\nRUN wget -nv https://x/y.tgz\n", only="LI341")
    fixes_to("FROM alpine:3.20\nRUN wget https://x/y.tgz\n", "FROM alpine:3.20\nRUN wget -q https://x/y.tgz\n", only="LI341")
    fixes_to("FROM alpine:3.20\nRUN apk add --no-cache wget=1.24\nRUN wget https://x/y.tgz\n",
             "FROM alpine:3.20\nRUN apk add --no-cache wget=1.24\nRUN wget -nv https://x/y.tgz\n", only="LI341")


# --- LI350 COPY instead of ADD ------------------------------------------------------------------------


def test_add_becomes_copy_for_plain_files_and_folders():
    fixes_to("FROM a:1\nADD app.jar /opt/\nadd --chown=1:1 . /app\n", "FROM a:1\nCOPY app.jar /opt/\ncopy --chown=1:1 . /app\n", only="LI350")


def test_add_to_copy_is_unsafe_when_the_source_could_be_an_archive():
    text = "FROM a:1\nADD tool /opt/\nADD app.tar.gz /opt/app.jar\n"
    assert run_fix(text, only="LI350").fixed == text
    fixes_to(text, "FROM a:1\nCOPY tool /opt/\nCOPY app.tar.gz /opt/app.jar\n", only="LI350", unsafe=True)


def test_add_with_its_own_flags_or_variables_is_not_fixed():
    not_fixed("FROM a:1\nADD --checksum=sha256:aa app.jar /opt/\n", "LI350", unsafe=True)
    not_fixed("FROM a:1\nARG F=a.jar\nADD $F /opt/\n", "LI350", unsafe=True)
    not_fixed("FROM a:1\nADD src/* /opt/\n", "LI350", unsafe=True)


# --- LI206 JSON form ---------------------------------------------------------------------------------


def test_cmd_exec_form_on_scratch_and_behind_a_shell_entrypoint():
    fixes_to("FROM scratch\nCMD /app --port=80 'a b'\n", 'FROM scratch\nCMD ["/app", "--port=80", "a b"]\n', only="LI206")
    fixes_to("FROM scratch\nCMD exec /app\n", 'FROM scratch\nCMD ["/app"]\n', only="LI206")
    fixes_to("FROM scratch\nCMD /app \\\n  --verbose\n", 'FROM scratch\nCMD ["/app", "--verbose"]\n', only="LI206")


def test_cmd_exec_form_is_unsafe_when_an_entrypoint_would_receive_it():
    text = "FROM node:20\nCMD node server.js\n"
    assert run_fix(text, only="LI206").fixed == text  # node's image has an ENTRYPOINT lintimg cannot see
    fixes_to(text, 'FROM node:20\nCMD ["node", "server.js"]\n', only="LI206", unsafe=True)


def test_entrypoint_exec_form_is_unsafe_and_absent_next_to_a_cmd():
    text = "FROM scratch\nENTRYPOINT /app\n"
    assert run_fix(text, only="LI206").fixed == text
    fixes_to(text, 'FROM scratch\nENTRYPOINT ["/app"]\n', only="LI206", unsafe=True)
    not_fixed('FROM scratch\nENTRYPOINT /app\nCMD ["--x"]\n', "LI206", unsafe=True)


def test_healthcheck_exec_form_keeps_its_options():
    fixes_to("FROM a:1\nHEALTHCHECK --interval=5s CMD curl -f http://localhost/\n",
             'FROM a:1\nHEALTHCHECK --interval=5s CMD ["curl", "-f", "http://localhost/"]\n', only="LI206")


def test_shell_features_keep_shell_form():
    for cmd in ("node $APP", "a && b", "a | b", "a > log", "a *.js", "cd /x", "A=1 a", "a ~/x", "a # note",
                "a \"$(b)\"", "a 'x'\"$y\"", "a \\\\x", "exec"):
        not_fixed(f"FROM scratch\nCMD {cmd}\n", "LI206", unsafe=True)
    not_fixed("FROM scratch\nONBUILD CMD app\n", "LI206", unsafe=True)


# --- LI360 WORKDIR instead of cd -----------------------------------------------------------------------


def test_cd_first_becomes_workdir_and_the_old_one_is_restored():
    fixes_to("FROM debian:12\nWORKDIR /app\nRUN cd /src && make\nRUN ./x\n",
             "FROM debian:12\nWORKDIR /app\nWORKDIR /src\nRUN make\nWORKDIR /app\nRUN ./x\n", only="LI360")
    fixes_to("FROM debian:12\nWORKDIR /app\n  RUN cd build && \\\n    make\nCMD [\"./x\"]\n",
             "FROM debian:12\nWORKDIR /app\n  WORKDIR /app/build\n  RUN make\n  WORKDIR /app\nCMD [\"./x\"]\n", only="LI360")


def test_cd_workdir_without_restoring_when_nothing_later_depends_on_it():
    fixes_to("FROM debian:12 AS build\nRUN cd /src && make\nFROM scratch\nCOPY --from=build /src/app /app\n",
             "FROM debian:12 AS build\nWORKDIR /src\nRUN make\nFROM scratch\nCOPY --from=build /src/app /app\n", only="LI360")
    fixes_to("FROM debian:12\nrun cd /src && make\nworkdir /app\n", "FROM debian:12\nworkdir /src\nrun make\nworkdir /app\n",
             config={"rules": {"LI201": "off"}}, only="LI360")


def test_cd_to_where_the_run_already_is_is_removed():
    fixes_to("FROM debian:12\nWORKDIR /app\nRUN cd /app && make\n", "FROM debian:12\nWORKDIR /app\nRUN make\n", only="LI360")


def test_cd_workdir_is_unsafe_when_the_old_directory_is_the_base_images():
    text = "FROM debian:12\nRUN cd /src && make\nRUN ./x\n"
    assert run_fix(text, only="LI360").fixed == text
    fixes_to(text, "FROM debian:12\nWORKDIR /src\nRUN make\nRUN ./x\n", only="LI360", unsafe=True)


def test_cd_before_any_from_crashes_nothing():
    """A file whose first line is no FROM (the fuzzer's find: a heredoc marker pasted before it) has
    instructions outside any stage; the fix is offered at most as unsafe, and no rule crashes."""
    text = "<<EOF FROM python:3.12-alpine\nRUN cd /app/src && pip install .\nWORKDIR /app\n"
    from tests.rulespec import lint

    assert "LI002" not in {f.rule_id for f in lint(text)}
    assert run_fix(text, only="LI360").fixed == text


def test_cd_not_first_or_not_plain_is_not_fixed():
    not_fixed("FROM debian:12\nRUN make && cd /x && make\n", "LI360", unsafe=True)
    not_fixed("FROM debian:12\nRUN cd $HOME && make\n", "LI360", unsafe=True)
    not_fixed("FROM debian:12\nRUN cd /x || exit 1\n", "LI360", unsafe=True)
    not_fixed("FROM debian:12\nRUN cd /x\n", "LI360", unsafe=True)
    not_fixed("FROM debian:12\nRUN cd build && make\n", "LI360", unsafe=True)  # relative, base WORKDIR unknown
    not_fixed("FROM debian:12\nONBUILD RUN cd /x && make\n", "LI360", unsafe=True)


# --- LI364 SHELL with pipefail -------------------------------------------------------------------------


def test_pipefail_shell_before_the_first_piped_run_of_a_bash_family():
    fixes_to("FROM debian:12\nRUN apt-get update\nRUN curl -fsSL x | tar xz\nRUN a | b\n",
             'FROM debian:12\nRUN apt-get update\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN curl -fsSL x | tar xz\nRUN a | b\n',
             only="LI364")


def test_pipefail_not_added_where_it_would_fail_a_yes_pipe():
    not_fixed("FROM debian:12\nRUN curl -fsSL x | tar xz\nRUN yes | apt-get install foo\n", "LI364", unsafe=True)
    not_fixed("FROM debian:12 AS base\nRUN curl -fsSL x | tar xz\nFROM base\nRUN yes | cmd\n", "LI364", unsafe=True)


def test_pipefail_keeps_a_bash_shells_options():
    fixes_to('FROM alpine:3.20\nSHELL ["/bin/bash", "-e", "-c"]\nRUN a | b\n',
             'FROM alpine:3.20\nSHELL ["/bin/bash", "-e", "-c"]\nSHELL ["/bin/bash", "-e", "-o", "pipefail", "-c"]\nRUN a | b\n', only="LI364")


def test_pipefail_is_unsafe_where_bash_reads_later_scripts_differently_or_may_be_missing():
    text = "FROM debian:12\nRUN a | b\nRUN echo 'x\\ty' > /f\n"
    assert run_fix(text, only="LI364").fixed == text
    fixes_to(text, 'FROM debian:12\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN a | b\nRUN echo \'x\\ty\' > /f\n',
             only="LI364", unsafe=True)
    text = "FROM example.com/base:1\nRUN a | b\n"
    assert run_fix(text, only="LI364").fixed == text
    not_fixed("FROM alpine:3.20\nRUN a | b\n", "LI364", unsafe=True)
    fixes_to("FROM alpine:3.20\nRUN apk add --no-cache bash=5.2\nRUN a | b\n",
             'FROM alpine:3.20\nRUN apk add --no-cache bash=5.2\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN a | b\n', only="LI364")


def test_pipefail_is_unsafe_where_the_container_runs_a_pipe_through_that_shell():
    """The SHELL also runs shell-form CMD/ENTRYPOINT/HEALTHCHECK: pipefail changes the status a piped one reports."""
    for later in ("CMD serve | tee /log\n", "HEALTHCHECK CMD curl -fs localhost | grep -q ok\n"):
        for shell in ("", 'SHELL ["/bin/bash", "-c"]\n'):
            text = f"FROM debian:12\n{shell}RUN a | b\n{later}"
            assert run_fix(text, only="LI364").fixed == text
            assert "pipefail" in run_fix(text, only="LI364", unsafe=True).fixed
    fixes_to("FROM debian:12\nRUN a | b\nCMD serve || exit 1\n",  # no pipe: || is not one
             'FROM debian:12\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN a | b\nCMD serve || exit 1\n', only="LI364")


# --- LI406 manifests before the whole source (unsafe, needs the build context) ------------------------


def _fix_in_context(tmp_path, dockerfile: str, files: dict[str, str], unsafe: bool = True) -> str:
    from lintimg.context import ContextAttacher
    from lintimg.run.fix import Source, fix_source
    from tests.rulespec import engine

    for rel, content in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(content)
    path = tmp_path / "Dockerfile"
    path.write_text(dockerfile)
    eng = engine({"rules": {r.id: "off" for r in engine().rules if r.fixable and r.id != "LI406"}})
    result = fix_source(eng, Source(str(path), dockerfile), unsafe=unsafe, context=ContextAttacher())
    assert not result.problems, result.problems
    return result.fixed


def test_manifests_copied_before_the_install_and_the_source_after(tmp_path):
    files = {"package.json": "{}", "package-lock.json": "{}", "src/index.js": ""}
    text = "FROM node:20\nWORKDIR /app\nCOPY --chown=node:node . .\nENV NODE_ENV=production\nRUN npm ci\nCMD [\"node\", \"src/index.js\"]\n"
    assert _fix_in_context(tmp_path, text, files, unsafe=False) == text
    assert _fix_in_context(tmp_path, text, files) == (
        "FROM node:20\nWORKDIR /app\nCOPY --chown=node:node package-lock.json package.json ./\nENV NODE_ENV=production\nRUN npm ci\n"
        "COPY --chown=node:node . .\nCMD [\"node\", \"src/index.js\"]\n")


def test_manifests_first_for_pip_requirements_with_a_continued_run(tmp_path):
    files = {"requirements.txt": "flask==3.0\n", "app.py": ""}
    text = "FROM python:3.12\nCOPY . /srv\nRUN pip install --no-cache-dir \\\n    -r /srv/requirements.txt\n"
    assert _fix_in_context(tmp_path, text, files) == (
        "FROM python:3.12\nCOPY requirements.txt /srv/\nRUN pip install --no-cache-dir \\\n    -r /srv/requirements.txt\nCOPY . /srv\n")


def test_no_reorder_when_the_run_needs_the_source_or_something_sits_between(tmp_path):
    files = {"package.json": "{}", "src/index.js": ""}
    for text in ("FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\n",
                 "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN ls\nRUN npm ci\n",
                 "FROM node:20\nWORKDIR /app\nCOPY . .\nWORKDIR /app/x\nRUN npm ci\n",
                 "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build ./...\n"):
        assert _fix_in_context(tmp_path, text, {**files, "go.mod": ""}) == text, text


def test_pipefail_shell_goes_above_the_runs_own_comment():
    fixes_to("FROM debian:12\n\n# fetch the tool\n# (and unpack it)\n  RUN curl -fsSL x | tar xz\n",
             'FROM debian:12\n\n  SHELL ["/bin/bash", "-o", "pipefail", "-c"]\n# fetch the tool\n# (and unpack it)\n  RUN curl -fsSL x | tar xz\n',
             only="LI364")


# --- LI233 relative WORKDIR after another ------------------------------------------------------


def test_chained_workdir_becomes_the_joined_absolute_path():
    fixes_to("FROM a:1\nWORKDIR /srv\nWORKDIR app/../web\n", "FROM a:1\nWORKDIR /srv\nWORKDIR /srv/web\n", only="LI233")
    fixes_to("FROM a:1 AS b\nWORKDIR /srv\nFROM b\nWORKDIR x\nWORKDIR y\n",
             "FROM a:1 AS b\nWORKDIR /srv\nFROM b\nWORKDIR /srv/x\nWORKDIR /srv/x/y\n", only="LI233")


def test_chained_workdir_not_fixed_where_the_earlier_path_is_not_known():
    not_fixed("FROM a:1\nWORKDIR app\nWORKDIR src\n", "LI233")  # the first one is relative to the base image
    not_fixed("FROM a:1\nWORKDIR $HOME\nWORKDIR src\n", "LI233")
    not_fixed("FROM a:1\nWORKDIR /srv\nWORKDIR 'my app'\n", "LI233")
    not_fixed("FROM a:1\nWORKDIR /srv\nONBUILD WORKDIR app\n", "LI233")  # runs after every WORKDIR of this image
