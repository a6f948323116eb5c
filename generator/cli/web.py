"""The web front end's commands: `serve` runs it, `users` manages its accounts, `backup` and `restore`
keep its data folder and instance folder safe."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from generator.cli.common import CONTEXT, GivenPath
from generator.errors import GaizaoError

INSTANCE_HELP = "实例文件夹：账户、会话密钥和操作记录（默认：当前文件夹下的 instance/，不能在数据文件夹内）。"
instance_option = click.option("--instance", "instance", type=click.Path(path_type=Path, file_okay=False),
                               help=INSTANCE_HELP)


def _instance(value: Path | None) -> Path:
    return (value or Path("instance")).resolve()


def command_user() -> str:
    """The account a command's audit record names: the system user who ran it (getpass works on Windows too)."""
    import getpass

    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "?"
    return f"命令行:{who}"


def _record(instance: Path, action: str, name: str) -> None:
    """Account changes go into the same audit log as the web's events, by the system user who ran the command."""
    from generator.web.audit import AuditLog

    AuditLog(instance).append(command_user(), action, detail=name)


@click.command(context_settings=CONTEXT)
@instance_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="监听地址；供局域网访问时设为本机内网地址或 0.0.0.0。")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="端口。")
@click.option("--threads", type=click.IntRange(1, 64), default=8, show_default=True, help="同时处理的请求数。")
@click.option("--behind-https", is_flag=True,
              help="在 HTTPS 反向代理之后运行：会话 Cookie 只经 HTTPS 发送，并采信代理转发的协议和来访地址。")
@click.option("--proxy", default="127.0.0.1", show_default=True, metavar="地址",
              help="HTTPS 反向代理连到本服务时的地址：只有从这个地址来的请求，其转发的来访地址才被采信。")
@click.pass_context
def serve(ctx: click.Context, instance: Path | None, host: str, port: int, threads: int,
          behind_https: bool, proxy: str) -> None:
    """启动网页版（waitress），各街道、县（区）、市级用户用浏览器登录使用。"""
    import gc
    import threading

    from waitress import serve as run

    from generator.web import create_app
    from generator.web.accounts import Accounts

    data_dir = (ctx.find_root().obj or {}).get("data_dir")
    folder = _instance(instance)
    from generator.web.policy import note_served
    from generator.web.statedb import StateDB

    app = create_app(data_dir, folder, {"BEHIND_HTTPS": behind_https})
    note_served(StateDB.of(folder), behind_https, Path(app.extensions["gaizao"]["store"].root))
    if not Accounts(folder).all():
        click.echo("提示：还没有任何账户，请先运行 "
                   f"gaizao users add 用户名 --duty sysadmin --unit 单位 --instance {folder}", err=True)
    if not behind_https:
        click.echo("提示：未使用 --behind-https，密码和住户信息将以明文在网络上传输；"
                   "部署到内网时请放在 HTTPS 反向代理之后，见 README 的部署一节。", err=True)
    store = app.extensions["gaizao"]["store"]
    from generator.web.backup import hold_serving

    serving = hold_serving(folder)  # kept open while the server runs: `gaizao restore` sees it
    # The state kept by the last run is read now; a folder read for the first time (some
    # seconds at a province's size) is read in the background while pages say how far it got.
    store.start()

    def warm() -> None:
        try:
            store.warm()
        except GaizaoError as exc:  # pages say so (503) until the folder is put right; the server stays up
            click.echo(f"警告：数据文件夹暂时无法读取，网页上将显示以下问题，改正后刷新即可：\n{exc}", err=True)
        # The data's state is millions of objects that live as long as the server: a full pass of the
        # collector over them (some 50 ms at 10,000 communities) would pause every request now and then.
        gc.collect()
        gc.freeze()

    if store.loading:
        click.echo("正在后台读取数据文件夹，读取完成前网页显示读取进度。", err=True)
        threading.Thread(target=warm, name="gaizao-warm", daemon=True).start()
    else:
        warm()
    click.echo(f"网页版已启动：http://{host}:{port}/ （数据：{app.extensions['gaizao']['store'].root}，"
               f"实例：{folder}）；按 Ctrl+C 停止。")
    run(app, host=host, port=port, threads=threads, ident="gaizao", **waitress_options(behind_https, proxy))
    if serving is not None:
        serving.close()


def waitress_options(behind_https: bool, proxy: str) -> dict[str, object]:
    """waitress's settings for the proxy: it drops X-Forwarded-* unless the peer is the named proxy, so
    behind HTTPS the proxy's headers must be trusted there, and from that address only."""
    if not behind_https:
        return {}
    return {"trusted_proxy": proxy, "trusted_proxy_count": 1,
            "trusted_proxy_headers": "x-forwarded-for x-forwarded-proto", "clear_untrusted_proxy_headers": True}


@click.group(context_settings=CONTEXT)
def users() -> None:
    """管理网页版的账户：新增、列出、停用、启用、重设密码、修改角色和单位。"""


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("密码", hide_input=True, confirmation_prompt="再输入一次密码"))


DUTY_HELP = ("管理职责（三员，每个账户至多一项）：sysadmin 系统管理员（账户和单位），"
             "secadmin 安全管理员（安全设置、解锁），auditor 审计管理员（查看和导出操作记录）。"
             "三员账户只能用本命令开设。")


@users.command("add", context_settings=CONTEXT)
@click.argument("name", metavar="用户名")
@click.option("--role", type=click.Choice(["street", "district", "city", "admin"]), default=None,
              help="业务角色：street 街道办事处（乡镇），district 县（区），city 市级，admin 全市资料管理。"
                   "三员账户可不设业务角色（看不到任何项目资料）。")
@click.option("--duty", type=click.Choice(["sysadmin", "secadmin", "auditor"]), default=None, help=DUTY_HELP)
@click.option("--unit", required=True, metavar="单位",
              help="所属单位：街道办事处（与项目资料中 street_office 相同）、县（区）名称或市名。")
@click.option("--person", default="", metavar="姓名", help="使用该账户的人的姓名。")
@click.option("--phone", default="", metavar="手机", help="联系手机。")
@click.option("--password-stdin", is_flag=True, help="从标准输入读取密码（一行），而不是提示输入。")
@instance_option
@click.pass_context
def users_add(ctx: click.Context, name: str, role: str | None, duty: str | None, unit: str, person: str, phone: str,
              password_stdin: bool, instance: Path | None) -> None:
    """新增账户；密码只以 argon2id 散列保存，首次登录时须由本人修改。街道办事处、县（区）的单位须是数据中有的。"""
    from generator.web.accounts import Accounts

    if role is None and duty is None:
        raise GaizaoError("须用 --role 指定业务角色，或用 --duty 指定管理职责（三员）")
    _check_unit(ctx, role or "", unit)
    user = Accounts(_instance(instance)).add(name, role or "", unit, _password(password_stdin), duty or "",
                                             must_change=True, person=person, phone=phone)
    _record(_instance(instance), "user-add", " ".join(x for x in (name, role, duty, unit) if x))
    click.echo(f"已新增账户 {user.name}（{user.role_name}，{user.unit}）；首次登录时须修改密码。")


def _check_unit(ctx: click.Context, role: str, unit: str) -> None:
    """Refuse a street office or district the data folder does not name (--data, or the bundled data)."""
    from generator.data.loader import BUNDLED_DATA
    from generator.web.units import of_folder

    root = Path((ctx.find_root().obj or {}).get("data_dir") or BUNDLED_DATA)
    why = of_folder(root).problem(role, unit)
    if why:
        raise GaizaoError(f"--unit：{why}（数据文件夹 {root}）")


@users.command("duty", context_settings=CONTEXT)
@click.argument("name", metavar="用户名")
@click.argument("duty", metavar="职责", type=click.Choice(["sysadmin", "secadmin", "auditor", "none"]))
@instance_option
def users_duty(name: str, duty: str, instance: Path | None) -> None:
    """给账户三员之一的管理职责（sysadmin、secadmin、auditor），或用 none 去掉；该账户已登录的会话立即失效。"""
    from generator.web.accounts import Accounts

    Accounts(_instance(instance)).set_duty(name, "" if duty == "none" else duty)
    _record(_instance(instance), "user-duty", f"{name} {duty}")
    click.echo(f"已将账户 {name} 的管理职责改为 {duty}。")


@users.command("list", context_settings=CONTEXT)
@click.option("--full", is_flag=True, help="显示完整手机号（默认只显示前三位和后四位）；记入操作记录。")
@instance_option
def users_list(full: bool, instance: Path | None) -> None:
    """列出账户：用户名、角色、单位、状态、管理职责、姓名、手机（手机默认遮盖）。"""
    from generator.data.roster import mask_phone
    from generator.web.accounts import Accounts

    folder = _instance(instance)
    found = Accounts(folder).all()
    if full:
        # Recorded before anything is shown, as a roster export is: full phones out without a record is what
        # the record prevents.
        _record(folder, "user-list-full", f"共 {len(found)} 个账户")
    for u in found:
        phone = (u.phone if full else mask_phone(u.phone)) or "-"
        click.echo(f"{u.name}\t{u.role or '-'}\t{u.unit}\t{'已停用' if u.disabled else '正常'}\t{u.duty or '-'}"
                   f"\t{u.person or '-'}\t{phone}")
    click.echo(f"共 {len(found)} 个账户。")


@users.command("disable", context_settings=CONTEXT)
@click.argument("name", metavar="用户名")
@instance_option
def users_disable(name: str, instance: Path | None) -> None:
    """停用账户：不能再登录，已登录的会话立即失效。"""
    from generator.web.accounts import Accounts

    Accounts(_instance(instance)).disable(name)
    _record(_instance(instance), "user-disable", name)
    click.echo(f"已停用账户 {name}。")


@users.command("passwd", context_settings=CONTEXT)
@click.argument("name", metavar="用户名")
@click.option("--password-stdin", is_flag=True, help="从标准输入读取新密码（一行）。")
@instance_option
def users_passwd(name: str, password_stdin: bool, instance: Path | None) -> None:
    """重设账户密码（本人下次登录时须修改）；该账户已登录的会话立即失效。"""
    from generator.web.accounts import Accounts

    Accounts(_instance(instance)).set_password(name, _password(password_stdin), must_change=True)
    _record(_instance(instance), "user-passwd", name)
    click.echo(f"已重设账户 {name} 的密码。")


@users.command("enable", context_settings=CONTEXT)
@click.argument("name", metavar="用户名")
@instance_option
def users_enable(name: str, instance: Path | None) -> None:
    """重新启用停用的账户（密码不变）。"""
    from generator.web.accounts import Accounts

    Accounts(_instance(instance)).enable(name)
    _record(_instance(instance), "user-enable", name)
    click.echo(f"已启用账户 {name}。")


@users.command("assign", context_settings=CONTEXT)
@click.argument("name", metavar="用户名")
@click.option("--role", type=click.Choice(["street", "district", "city", "admin"]), required=True,
              help="新角色：street、district、city 或 admin。")
@click.option("--unit", required=True, metavar="单位", help="新的所属单位。")
@instance_option
@click.pass_context
def users_assign(ctx: click.Context, name: str, role: str, unit: str, instance: Path | None) -> None:
    """修改账户的角色和所属单位；该账户已登录的会话立即失效。街道办事处、县（区）的单位须是数据中有的。"""
    from generator.web.accounts import Accounts

    _check_unit(ctx, role, unit)
    Accounts(_instance(instance)).assign(name, role, unit)
    _record(_instance(instance), "user-assign", f"{name} {role} {unit}")
    click.echo(f"已将账户 {name} 改为 {role}（{unit.strip()}）。")


@click.command(context_settings=CONTEXT)
@instance_option
@click.option("--out", "out", type=GivenPath(dir_okay=True), default=None,
              help="备份文件（以 .zip 结尾）或存放它的文件夹（不存在则新建；默认：当前文件夹），文件名含日期时间。")
@click.pass_context
def backup(ctx: click.Context, instance: Path | None, out: Path | None) -> None:
    """备份数据文件夹和实例文件夹（账户、操作记录等）为一个 zip；网页服务运行时也可备份。"""
    import datetime as dt

    from generator.data.loader import BUNDLED_DATA
    from generator.web.backup import take

    data_dir = (ctx.find_root().obj or {}).get("data_dir") or BUNDLED_DATA
    name = f"gaizao-backup-{dt.datetime.now():%Y%m%d-%H%M%S}.zip"
    # A path not ending in .zip is a folder, made if missing: a scheduled task names a folder.
    target = Path(name) if out is None else out if out.suffix.lower() == ".zip" else out / name
    taken = take(data_dir, _instance(instance), target)
    _record(_instance(instance), "backup", str(taken.path))
    for path in taken.skipped:
        click.echo(f"提示：{path} 是符号链接（快捷方式）或特殊文件，未收入备份", err=True)
    click.echo(f"已备份到 {taken.path}：{taken.files}个文件，共{taken.size / 1024 / 1024:.1f}MB"
               f"（其间暂停网页保存{taken.locked:.2f}秒）。")


@click.command(context_settings=CONTEXT)
@click.argument("archive", metavar="备份文件", type=click.Path(path_type=Path, dir_okay=False))
@instance_option
@click.option("--force", is_flag=True, help="数据文件夹或实例文件夹不是空的时也恢复（原内容改名保留，不删除）。")
@click.option("--while-serving", is_flag=True,
              help="网页服务正在使用该实例文件夹时也恢复（一般应先停止网页服务；恢复后须重启服务）。")
@click.pass_context
def restore(ctx: click.Context, archive: Path, instance: Path | None, force: bool, while_serving: bool) -> None:
    """从 gaizao backup 的备份恢复数据文件夹和实例文件夹；先逐个核对校验和，请先停止网页服务。"""
    from generator.web.backup import restore as put_back

    data_dir = (ctx.find_root().obj or {}).get("data_dir")
    if data_dir is None:
        raise GaizaoError("请用 --data 指定要恢复到的数据文件夹，例如：gaizao --data /srv/gaizao/data restore 备份.zip "
                          "--instance /srv/gaizao/instance")
    folder = _instance(instance)
    done = put_back(archive, data_dir, folder, force, while_serving)
    _record(folder, "restore", f"{Path(archive).resolve()}（{done.created} 备份）")
    click.echo(f"已从备份 {archive}（{done.created} 备份）恢复：数据文件夹 {Path(data_dir).resolve()}"
               f"（{done.files['data']}个文件），实例文件夹 {folder}（{done.files['instance']}个文件，含实例数据库），"
               "全部文件校验和一致。")
    for kept in done.kept:
        click.echo(f"原有内容已改名保留为 {kept}，确认无误后可自行删除。")


@click.group(context_settings=CONTEXT)
def security() -> None:
    """网页版的安全自查、操作记录校验和账户解锁（等级保护测评用）。"""


@security.command("check", context_settings=CONTEXT)
@instance_option
@click.pass_context
def security_check(ctx: click.Context, instance: Path | None) -> None:
    """逐项列出本实例对照等级保护第二级要求的设置和记录：哪些符合、哪些不符合，可交测评机构。"""
    from generator.web.selfcheck import check, report

    data_dir = (ctx.find_root().obj or {}).get("data_dir")
    click.echo(report(check(_instance(instance), data_dir=Path(data_dir) if data_dir else None)))


@security.command("verify", context_settings=CONTEXT)
@instance_option
def security_verify(instance: Path | None) -> None:
    """逐条核对操作记录的校验值链：完整时退出码为0，发现修改或删除时指出第一条不符的记录、退出码为1。"""
    from generator.web.audit import AuditLog

    log = AuditLog(_instance(instance))
    verdict = log.verify()
    click.echo(verdict.message())
    _record(_instance(instance), "audit-verify", verdict.message())
    if not verdict.whole:
        sys.exit(1)


@security.command("unlock", context_settings=CONTEXT)
@click.argument("name", metavar="用户名")
@instance_option
def security_unlock(name: str, instance: Path | None) -> None:
    """解除因连续登录失败而锁定的账户。"""
    from generator.web.accounts import Throttle
    from generator.web.statedb import StateDB

    if not Throttle(StateDB.of(_instance(instance))).unlock(name):
        raise GaizaoError(f"账户“{name}”没有被锁定")
    _record(_instance(instance), "unlock", name)
    click.echo(f"已解除账户 {name} 的锁定。")


@security.command("reset-totp", context_settings=CONTEXT)
@click.argument("name", metavar="用户名")
@instance_option
def security_reset_totp(name: str, instance: Path | None) -> None:
    """重置账户的动态口令（第三级，手机和恢复码都丢失时）：该账户下次登录时重新开通。"""
    from generator.web.accounts import Accounts

    Accounts(_instance(instance)).reset_totp(name)
    _record(_instance(instance), "totp-reset", name)
    click.echo(f"已重置账户 {name} 的动态口令，下次登录时重新开通。")


def _switch_data(ctx: click.Context, instance: Path | None, seal: bool) -> None:
    from generator.data import sealed
    from generator.data.loader import BUNDLED_DATA
    from generator.web.atrest import KEY_FILE, switch_data

    data_dir = Path((ctx.find_root().obj or {}).get("data_dir") or BUNDLED_DATA)
    folder = _instance(instance)
    done = switch_data(data_dir, folder, seal)
    left = sealed.plain_files(data_dir) if seal else sealed.sealed_files(data_dir)
    what = f"{len(done)}个住户文件（名册、表决票、满意度答卷）"
    _record(folder, "data-seal" if seal else "data-unseal", f"{data_dir.resolve()}：{what}")
    if seal:
        click.echo(f"已加密保存数据文件夹 {data_dir.resolve()} 中的{what}（SM4，密钥 {folder / KEY_FILE}，"
                   "请另行备份这把密钥）。")
    else:
        click.echo(f"已把数据文件夹 {data_dir.resolve()} 中的{what}改为明文保存。")
    if left:
        raise GaizaoError(f"仍有{len(left)}个文件未转换（如 {left[0]}，多为刚写入的），请再运行一次")


@security.command("seal-data", context_settings=CONTEXT)
@instance_option
@click.pass_context
def security_seal_data(ctx: click.Context, instance: Path | None) -> None:
    """第三级：把数据文件夹中明文保存的住户文件（rosters、votes、satisfaction 中的 .csv）用本实例的 SM4 密钥
    加密保存为 .csv.sm4，逐个写入、读回核对后才删除原文件；中途停止可再运行一次。"""
    _switch_data(ctx, instance, seal=True)


@security.command("unseal-data", context_settings=CONTEXT)
@instance_option
@click.pass_context
def security_unseal_data(ctx: click.Context, instance: Path | None) -> None:
    """把数据文件夹中加密保存的住户文件改回明文 .csv（退出第三级或移交数据时），逐个写入、核对后才删除加密文件。"""
    _switch_data(ctx, instance, seal=False)
