"""The instance's self-check against the 等级保护 second-level requirements: what its settings and
records meet and what they do not, item by item, for the IT department to hand to the assessor."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from generator.web.accounts import DUTIES, Accounts
from generator.web.audit import AuditLog
from generator.web.policy import changed_settings, last_served
from generator.web.statedb import StateDB

Status = Literal["符合", "部分符合", "不符合", "无法判断"]

DEFAULT_NAMES = frozenset({"admin", "root", "test", "guest", "user", "administrator", "system", "demo"})
"""Account names that read as a default or shared account."""
DORMANT_DAYS = 90
"""An enabled account unused this long is one nobody may be watching."""
BACKUP_DAYS = 7
"""A last backup older than this is too old for a weekly schedule."""
KEEP_DAYS = 180
"""How long audit records are kept at least (网络安全法: six months)."""


@dataclass(frozen=True)
class Finding:
    area: str
    """The requirement's heading, as GB/T 22239-2019 names it."""
    item: str
    status: Status
    detail: str


def check(instance: Path, now: float | None = None, data_dir: Path | None = None) -> list[Finding]:
    """Every item of the self-check for an instance folder (and the data folder it serves: the one given, else
    the one it was last started over)."""
    now = time.time() if now is None else now
    db = StateDB.of(instance)
    accounts = Accounts(instance)
    policy = accounts.policy()
    users = accounts.all()
    enabled = [u for u in users if not u.disabled]
    found: list[Finding] = []
    area = "安全计算环境·身份鉴别"

    def add(item: str, ok: bool, good: str, bad: str, partial: bool = False) -> None:
        found.append(Finding(area, item, "符合" if ok else "部分符合" if partial else "不符合", good if ok else bad))

    add("口令复杂度", policy.min_length >= 8 and policy.classes >= 3,
        f"至少{policy.min_length}个字符、{policy.classes}类字符，不得含用户名，拒绝常见口令",
        f"口令规则偏弱：至少{policy.min_length}个字符、{policy.classes}类字符（应不少于8个字符、3类）")
    add("口令定期更换", 0 < policy.max_age_days <= 90, f"有效期{policy.max_age_days}天，到期前{policy.warn_days}天提醒",
        "口令不过期" if not policy.max_age_days else f"有效期{policy.max_age_days}天，长于常见要求的90天")
    add("口令不得重复使用", policy.history >= 3, f"不得与最近{policy.history}次相同",
        f"只检查最近{policy.history}次（宜不少于3次）", partial=policy.history > 0)
    add("登录失败处理", policy.lock_after <= 5 and policy.lock_minutes != 1,
        f"连续失败{policy.lock_after}次锁定"
        + (f"{policy.lock_minutes}分钟" if policy.lock_minutes else "至安全管理员解锁"),
        f"连续失败{policy.lock_after}次才锁定（常见要求不超过5次）", partial=True)
    fixed = "idle_minutes" in changed_settings(db)
    add("登录连接超时自动退出", policy.idle_minutes <= 10,
        f"无操作{policy.idle_minutes}分钟自动退出",
        f"无操作{policy.idle_minutes}分钟自动退出（{'安全管理员所设' if fixed else '默认值，安全管理员未设置'}；"
        "测评常要求不超过10分钟）", partial=policy.idle_minutes <= 30)
    add("同一账户并发会话", policy.max_sessions <= 3, f"同一账户至多{policy.max_sessions}个会话",
        f"同一账户可有{policy.max_sessions}个会话", partial=True)
    served = last_served(db)
    if served is None:
        found.append(Finding(area, "远程管理防窃听（HTTPS）", "无法判断", "网页服务从未在此实例上启动过"))
    else:
        add("远程管理防窃听（HTTPS）", bool(served.get("behind_https")),
            f"最近一次（{served['time']}）以 --behind-https 在 HTTPS 反向代理之后启动",
            f"最近一次（{served['time']}）未使用 --behind-https 启动：口令和住户信息以明文传输，须配置 HTTPS 反向代理")
    defaults = sorted(u.name for u in enabled if u.name.lower() in DEFAULT_NAMES)
    add("无默认账户、共享账户", not defaults, "没有名为 admin、root、test 等的账户",
        f"账户名像默认或共享账户：{'、'.join(defaults)}（宜改为具体的人名账户后停用）")
    dormant = sorted(u.name for u in enabled if now - max(u.last_login, u.password_set) > DORMANT_DAYS * 86400)
    add("多余、过期账户", not dormant, f"没有{DORMANT_DAYS}天以上未使用的启用账户",
        f"{DORMANT_DAYS}天以上未使用的启用账户：{'、'.join(dormant)}（确认后停用）", partial=True)

    area = "安全管理中心·三员分立"
    for duty, name in DUTIES.items():
        holders = [u.name for u in enabled if u.duty == duty]
        add(name, bool(holders), f"由 {'、'.join(holders)} 担任",
            f"没有启用的{name}账户（用 gaizao users add --duty {duty} 开设）")
    mixed = sorted(u.name for u in enabled if u.duty and u.role)
    add("管理员不兼业务", not mixed, "三员账户都没有业务角色，看不到项目资料",
        f"兼有业务角色的管理员账户：{'、'.join(mixed)}（多为升级前的 admin 账户；宜另开业务账户后用 "
        "gaizao users duty 用户名 none 或另开三员账户）", partial=True)

    area = "安全计算环境·安全审计"
    log = AuditLog(instance)
    verdict = log.verify()
    add("审计记录完整、防篡改", verdict.whole, verdict.message(), verdict.message())
    triggers = {r[0] for r in db.rows("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    add("审计记录只能追加", {"audit_no_update", "audit_no_delete"} <= triggers, "数据库拒绝修改和删除操作记录",
        "操作记录表的防修改、防删除触发器已被删除")
    oldest = log.oldest()
    kept = (now - dt.datetime.fromisoformat(oldest).timestamp()) / 86400 if oldest else 0.0
    found.append(Finding(area, f"记录保存不少于{KEEP_DAYS}天", "符合",
                         f"本程序从不删除操作记录；最早一条为 {oldest or '无'}（已保存{kept:.0f}天）"))

    area = "安全计算环境·数据备份恢复"
    backup = log.latest("backup")
    if backup is None:
        found.append(Finding(area, "定期备份", "不符合", "从未用 gaizao backup 备份过（见 README 部署一节的备份计划）"))
    else:
        age = (now - dt.datetime.fromisoformat(backup.time).timestamp()) / 86400
        add("定期备份", age <= BACKUP_DAYS, f"最近一次备份：{backup.local_time}（{backup.detail}）",
            f"最近一次备份在{age:.0f}天前（{backup.local_time}），宜每天或每周备份并异地保存", partial=True)

    area = "安全计算环境·个人信息保护"
    found.append(Finding(area, "住户名册下载登记用途", "符合",
                         f"每次下载住户名册都登记账户、地址和用途（已登记{log.count('roster-download')}次）"))
    area = "第三级增强措施"
    if policy.level < 3:
        found.append(Finding(area, "双因素认证、国密算法、只经 HTTPS", "无法判断",
                             "本实例按第二级配置，未启用第三级增强措施（安全管理员可在安全设置中改为3）"))
    else:
        waiting = sorted(u.name for u in enabled if not u.totp)
        add("双因素认证（密码＋动态口令）", not waiting, "所有启用的账户都已开通动态口令",
            f"尚未开通动态口令的账户（下次登录时开通）：{'、'.join(waiting)}", partial=True)
        found.append(Finding(area, "操作记录用 SM3 校验", "符合", "第三级启用后新增的操作记录以 SM3 杂凑值相连"))
        add("只经 HTTPS 提供服务", bool(served and served.get("behind_https")), "未使用 --behind-https 时拒绝启动",
            "最近一次启动未使用 --behind-https", partial=True)
        found.append(_sealed_at_rest(area, db, data_dir, served))
    return found


def _sealed_at_rest(area: str, db: StateDB, data_dir: Path | None, served: dict[str, object] | None) -> Finding:
    """SM4 at rest: the key at hand and this instance's, and no resident file of the data folder left plain."""
    from generator.data import sealed
    from generator.web.atrest import KEY_FILE, status

    item = "住户个人信息存储加密（SM4）"
    whole, why = status(db)
    if not whole:
        return Finding(area, item, "不符合", why)
    if data_dir is None and served and served.get("data"):
        data_dir = Path(str(served["data"]))
    if data_dir is None or not data_dir.is_dir():
        return Finding(area, item, "无法判断", "不知道本实例服务的数据文件夹（网页服务从未以本程序的这个版本启动过）："
                       "请用 gaizao --data 数据文件夹 security check 检查")
    plain = sealed.plain_files(data_dir)
    if plain:
        return Finding(area, item, "不符合",
                       f"数据文件夹 {data_dir} 中还有{len(plain)}个明文保存的住户文件（如 "
                       f"{plain[0].relative_to(data_dir).as_posix()}）：请运行 gaizao --data {data_dir} "
                       f"security seal-data --instance {db.path.parent}")
    files = sealed.sealed_files(data_dir)
    check = next((r[0] for r in db.rows("SELECT value FROM settings WHERE key = 'sm4_check'")), None)
    other = [p for p in files if _header_check(p) != check]
    if other:
        return Finding(area, item, "不符合", f"数据文件夹 {data_dir} 中有{len(other)}个住户文件不是用本实例的密钥"
                       f"加密的（如 {other[0].relative_to(data_dir).as_posix()}），本实例无法读取")
    return Finding(area, item, "符合",
                   "实例数据库中的操作记录详情、修改内容和来访地址，上传记录的文件名和处理结果，账户的手机号码和动态口令"
                   f"密钥，以及数据文件夹 {data_dir} 中的住户名册、表决票和满意度答卷（{len(files)}个文件），"
                   f"均以 SM4-GCM 加密保存（密钥 {KEY_FILE} 在实例文件夹中，须另行备份）")


def _header_check(path: Path) -> str | None:
    from generator.data import sealed
    from generator.errors import DataError

    try:
        with open(path, "rb") as file:
            return sealed.header_check(file.read(200), path)
    except (OSError, DataError):
        return None


def report(findings: list[Finding]) -> str:
    """The self-check as text, by area, with a count at the end."""
    lines: list[str] = []
    area = ""
    for f in findings:
        if f.area != area:
            area = f.area
            lines.append(f"\n{area}")
        lines.append(f"  【{f.status}】{f.item}：{f.detail}")
    counts = {s: sum(1 for f in findings if f.status == s) for s in ("符合", "部分符合", "不符合", "无法判断")}
    lines.append("\n合计：" + "，".join(f"{s}{n}项" for s, n in counts.items()))
    return "\n".join(lines).lstrip("\n")
