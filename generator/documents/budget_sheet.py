"""The budget workbook's program-written rows: total, category subtotals and funding split as formulas."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from generator.errors import TemplateError
from generator.render.blocks import Blocks, Formula, Row, Spans
from generator.render.filters import cn_numeral
from generator.render.formulas import AMOUNT, SHARE, daxie_formula
from generator.render.sheet_words import say
from generator.render.templates import BUILTIN
from generator.rules.funding import Group, Policy, Split, number_text, policy_from

BUDGET_COLUMNS = {
    "no": "A", "category": "B", "item": "C", "description": "D", "quantity": "E", "unit": "F",
    "unit_price": "G", "amount": "H", "before_meter": "I", "after_meter": "J", "rule": "K",
}
"""Where the budget template keeps each line-item field; the formulas rely on it. Column K
shows ``line.rule_name``: the general items' total is a SUMIF on it."""

STYLE_TITLE = "表格标题"
STYLE_NOTE = "表外文字"
STYLE_SECTION = "小节标题"
STYLE_HEAD = "表头"
STYLE_TEXT = "表内文字"
STYLE_CENTER = "表内居中"
STYLE_MONEY = "表内金额"
STYLE_PERCENT = "表内比例"
STYLES = (STYLE_TITLE, STYLE_NOTE, STYLE_SECTION, STYLE_HEAD, STYLE_TEXT, STYLE_CENTER,
          STYLE_MONEY, STYLE_PERCENT)
"""Named cell styles of the budget template; a clerk restyles the summary by editing them."""

BUILTIN_TEMPLATE = BUILTIN / "xlsx" / "budget.xlsx"
"""Where words a city's older copy of the template lacks are taken from."""
PRINT_AREA = "A:K"
"""The printed columns of the budget sheet; anything right of them is for the clerk only."""

NUMBER_FORMATS = ("0_ ",)
"""Number formats a program-written row may ask for on top of its style (``format``)."""


def budget_summary(context: dict[str, Any], spans: Spans, row: int) -> list[Row]:
    """The budget's total, category subtotals and funding split, as formulas over the items."""
    if "items" not in spans or not context.get("items"):
        raise TemplateError("工程预算及资金筹集表：{%tr budget_summary %} 之上须有 "
                            "{%tr for line in items %} 行，且项目须有预算项目")
    first, last = spans["items"]
    rows = _Rows(first, last, row, context)
    _budget_summary(rows, context, _policy(context["programme"]))
    return rows.specs


def _policy(programme: dict[str, Any]) -> Policy:
    """The programme's funding policy, read from the context the workbook is rendered from."""
    # With funding categories the categories are the whole rule: both splits may be None then.
    missing = [k for k in ("general_split", "pipeline_split")
               if not isinstance(programme.get(k), dict) and not (programme.get("funding") and k in programme)]
    if missing:
        fields = "、".join(f"programme.{k}" for k in missing)
        raise TemplateError(f"渲染数据缺少 {fields}（分担比例与尾差承担方）")
    return policy_from(programme["parties"], programme["general_split"], programme["pipeline_split"],
                       programme.get("funding"))


class _Rows:
    """The summary rows being built under the line items, which know their own row numbers."""

    def __init__(self, first: int, last: int, start: int, context: dict[str, Any]) -> None:
        self.first, self.last, self.start = first, last, start
        self.context = context
        self.story: list[str] = []
        """The 各方金额计算 sentences, as Excel string expressions over the rows' cells."""
        self.deducted: list[str] = []
        """The cells of every sum taken off before a split: the sentences say 即… only after one."""
        self.specs: list[Row] = []
        # the line items are section 一 (the template's own); the program's sections go on from 二,
        # one per split group as well: a programme may sort items into many categories
        self.sections = 1

    @property
    def next(self) -> int:
        """The sheet row the next appended row will land on."""
        return self.start + len(self.specs)

    def add(self, spec: Row) -> int:
        """Append a row; return its sheet row number."""
        row = self.next
        self.specs.append(spec)
        return row

    def say(self, key: str, **values: Any) -> str:
        """The words of the template's 程序用语 sheet under key, filled from values."""
        return say(self.context, key, BUILTIN_TEMPLATE, **values)

    def header(self, label: str, *heads: str) -> Row:
        """A table's header row: 序号, the label over B:G, then the headings from H on."""
        return _header(self.say("number_head"), label, *heads)

    def tell(self, key: str, **values: Any) -> str:
        """Words of the 程序用语 sheet as an Excel string expression: values given as
        ``live(...)`` become figures of those cells as the sheet shows them, the rest plain text."""
        text = self.say(key, **values)
        parts = text.split(CELL)
        return "&".join(f'"{p.replace(chr(34), chr(34) * 2)}"' if i % 2 == 0 else p
                        for i, p in enumerate(parts) if p or i % 2)

    def heading(self, text: str) -> None:
        self.sections += 1
        n = self.sections
        self.add({"A": self.say("section", number=cn_numeral(n), n=n, title=text), "merge": ["A:K"],
                  "style": STYLE_SECTION, "height": 20})

    def col(self, key: str) -> str:
        """The line items' range of one column, absolute: $H$6:$H$10."""
        letter = BUDGET_COLUMNS[key]
        return f"${letter}${self.first}:${letter}${self.last}"


def _budget_summary(rows: _Rows, ctx: dict[str, Any], policy: Policy) -> None:
    """Total, category subtotals, pipeline split, general split, totals by party."""
    names = policy.parties
    total_row = rows.add({"A": rows.say("total"), "H": Formula(f"=SUM({rows.col('amount')})"),
                          "I": Formula(f"=SUM({rows.col('before_meter')})"),
                          "J": Formula(f"=SUM({rows.col('after_meter')})"),
                          "merge": ["A:G"], "bold": True})
    total = f"$H${total_row}"
    _meter_check(rows, rows.specs[total_row - rows.start])
    # The amount in 大写 is a formula too: it follows any edit of the lines above.
    daxie = rows.say("total_daxie").replace('"', '""')
    rows.add({"A": Formula(f'="{daxie}"&{daxie_formula(total)}'),
              "merge": ["A:K"], "style": STYLE_NOTE, "height": 22})

    # SUMIF on the category column, so a line moved to another category moves its amount too.
    rows.heading(rows.say("categories"))
    rows.add(rows.header(rows.say("category"), *_money_heads(rows)))
    for no, cat in enumerate(ctx["categories"], start=1):
        r = rows.next
        rows.add(_money_row(r, no, cat["name"], Formula(
            f"=SUMIF({rows.col('category')},B{r},{rows.col('amount')})"), total))

    # The funding plan starts a page of its own, the one that is signed.
    funding_first = len(rows.specs)
    parts: dict[str, list[str]] = {}
    for key, cell in _pipeline_split(rows, ctx, policy).items():
        parts.setdefault(key, []).append(cell)
    groups = policy.groups_for([ln["category"] for ln in ctx["items"] if ln["rule"] != "pipeline"])
    other: dict[str, str] = {}
    for group in groups:
        general, raised = _general_split(rows, ctx, policy, group)
        for key, cell in general.items():
            parts.setdefault(key, []).append(cell)
        other.update(raised)
    rows.specs[funding_first]["page_break"] = True

    # Every party's total is a sum of the cells above, so any change flows through.
    rows.heading(rows.say("sources"))
    rows.add(rows.header(rows.say("party"), *_money_heads(rows)))
    # Every party the rules pay, in the programme's order; a party of no rule shows 0.
    paying = {*parts, *other, *policy.general.shares, *policy.pipeline.shares}
    sums = {k: "+".join([*([other[k]] if k in other else []), *parts.get(k, [])]) or "0"
            for k in policy.order if k in paying}
    # Each party's 万元 and share is plain rounding of its own amount, as a reviewer recomputes
    # it; where they do not add up to the total's, the 尾差 row below says so.
    party_rows = {key: rows.add(_money_row(rows.next, no, names[key], Formula(f"={sums[key]}"), total))
                  for no, key in enumerate(sums, start=1)}
    all_rows = rows.next
    first_party, last_party = min(party_rows.values()), max(party_rows.values())
    row = _money_row(all_rows, "", rows.say("total"), Formula(f"=SUM(H{first_party}:H{last_party})"),
                     total, bold=True)
    # The clerk's check stands right of the print area (columns M:N), not on the signed page.
    row.update({"M": rows.say("check"), "N": Formula(f"=H{all_rows}-{total}")})
    rows.add(row)
    off = (f"ABS(ROUND(SUM(I{first_party}:I{last_party})-I{all_rows},2))"
           f"+ABS(ROUND(SUM(J{first_party}:J{last_party})-J{all_rows},4))")
    note = rows.tell("rounding_note", wan=live(f"SUM(I{first_party}:I{last_party})", AMOUNT),
                     share=live(f"SUM(J{first_party}:J{last_party})", SHARE))
    rows.add({"A": Formula(f'=IF({off}=0,"",{note})'), "merge": ["A:K"],
              "style": STYLE_NOTE, "height": 20})
    households = rows.add(_note_row("", rows.say("households"), ctx["community"]["households"], "",
                                    number_format="0_ "))
    residents = f"H{party_rows[policy.after_meter_party]}"
    party = names[policy.after_meter_party]
    rows.add(_note_row("", rows.say("per_household", party=party),
                       Formula(f"=IF(H{households}=0,0,ROUND({residents}/H{households},2))"),
                       rows.say("per_household_how", party=party)))
    # The sentence under the table, as a formula: it follows any edit of a quantity or a price.
    # A party no row of this project pays (its sum is no cell at all) is left out of the sentence,
    # and so is a raised source of nothing, as in the deductions above.
    told = [(k, rows.tell("derivation_party", party=names[k], amount=live(f"H{r}", AMOUNT),
                          share=live(f"J{r}", SHARE))) for k, r in party_rows.items() if sums[k] != "0"]
    joiner = '"' + rows.say("clause_joiner").replace('"', '""') + '"'
    shares = told[0][1] + "".join(
        f'&IF(H{party_rows[k]}=0,"",{joiner}&{part})' if k in other and k not in parts else f'&{joiner}&{part}'
        for k, part in told[1:])
    story = [rows.tell("derivation_lead"), *rows.story, rows.tell("derivation_parties"), shares,
             rows.tell("derivation_end"), _share_note(rows, ctx, groups, live(total, AMOUNT))]
    text = "&".join(part for part in story if part)
    rows.add({"A": Formula("=" + text), "merge": ["A:K"], "style": STYLE_NOTE,
              "height": _story_height(text)})


def _share_note(rows: _Rows, ctx: dict[str, Any], groups: Sequence[Group], total: str) -> str:
    """Why the shares differ from the programme's ratios, naming only the reasons that hold: which
    reasons can hold is the project's structure, whether money was deducted is the cells'."""
    ratios = rows.say("list_joiner").join(dict.fromkeys(g.split.ratio for g in groups))
    facts = {"total": total, "ratios": ratios,
             "pipeline": any(ln["rule"] == "pipeline" for ln in ctx["items"]),
             "categories": len({g.split.ratio for g in groups}) > 1}
    plain = rows.tell("derivation_note", **facts, deducted=False)
    if not rows.deducted:
        return plain
    return f'IF({_none(rows.deducted)},{plain},{rows.tell("derivation_note", **facts, deducted=True)})'


def _none(refs: list[str]) -> str:
    """An Excel test that every one of the cells holds nothing (0 or empty)."""
    return "+".join(f"ABS({ref})" for ref in refs) + "=0"


CELL = "\ue000"
"""Marks a live figure inside the words of a sentence (a private-use character no template holds)."""


def live(ref: str, fmt: str) -> str:
    """A figure of the sentence: the cell's value as the sheet shows it."""
    return f'{CELL}TEXT({ref},"{fmt}"){CELL}'


def _story_height(text: str) -> float:
    """The row height the sentence needs across A:K: some 68 CJK characters a line at 11 pt, a
    figure's digits half as wide (an amount about 6 characters' room, a share 3)."""
    words = [p for p in text.split('"')[1::2] if p not in (AMOUNT, SHARE)]
    room = sum(len(p) for p in words) + 6 * text.count(AMOUNT) + 3 * text.count(SHARE)
    return max(30.0, (room // 68 + 1) * 15.0 + 8)


def _meter_check(rows: _Rows, row: Row) -> None:
    """表（箱）前 + 表（箱）后 = 金额 over the pipeline lines, as a formula a clerk's edit moves;
    written beside the given row, right of the print area like the other check."""
    pipeline, rule = rows.context["programme"]["rule_names"]["pipeline"], rows.col("rule")
    sums = [f'SUMIF({rule},"{pipeline}",{rows.col(key)})'
            for key in ("before_meter", "after_meter", "amount")]
    row.update({"M": rows.say("meter_check"), "N": Formula(f"=ROUND({sums[0]}-({sums[2]}-{sums[1]}),2)")})


def _pipeline_split(rows: _Rows, ctx: dict[str, Any], policy: Policy) -> dict[str, str]:
    """Per pipeline line: before the meter split by percent, after it the residents'; totals."""
    rule, after_party = policy.pipeline, policy.after_meter_party
    names = policy.parties
    lines = [(rows.first + i, line) for i, line in enumerate(ctx["items"])
             if line["rule"] == "pipeline"]
    if not lines:
        return {}
    ratio = rows.say("list_joiner").join(rows.say("pipeline_share", party=names[k], percent=number_text(v))
                                         for k, v in rule.shares.items())
    rows.heading(rows.say("pipeline_heading", ratio=ratio, remainder=names[rule.remainder_to],
                          after=names[after_party]))
    # One column per party of the split, I onwards; the after-meter part stands right of them.
    columns = dict(zip(rule.shares, "IJ", strict=True))
    rows.add(rows.header(rows.say("pipeline_item"), rows.say("before_meter"), *(names[k] for k in columns),
                         rows.say("after_meter", party=names[after_party])))
    before, after = BUDGET_COLUMNS["before_meter"], BUDGET_COLUMNS["after_meter"]
    first = rows.next
    for no, (item_row, ln) in enumerate(lines, start=1):
        r = rows.next  # the split refers to cells of its own row
        split = _formulas(rule, f"H{r}", {k: f"{c}{r}" for k, c in columns.items()})
        rows.add({"A": no, "B": rows.say("pipeline_line", item=ln["item"], no=ln["no"]),
                  "H": Formula(f"={before}{item_row}"),
                  **{c: split[k] for k, c in columns.items()},
                  "K": Formula(f"={after}{item_row}"), "merge": ["B:G"]})
    r = rows.add({"B": rows.say("total"), "merge": ["B:G"], "bold": True,
                  **{k: Formula(f"=SUM({k}{first}:{k}{rows.next - 1})") for k in "HIJK"}})
    return {**{k: f"{c}{r}" for k, c in columns.items()}, after_party: f"K{r}"}


def _general_split(
    rows: _Rows, ctx: dict[str, Any], policy: Policy, group: Group
) -> tuple[dict[str, str], dict[str, str]]:
    """One group's general items, less the raised sources (if it takes them) and the
    contributions, split by shares; return each party's cells, and the raised sources' cells."""
    rule, names = group.split, policy.parties
    funding = ctx["funding"]
    whole = number_text(rule.whole)
    parties = rows.say("ratio_joiner").join(names[k] for k in rule.shares)
    label = group.key or ctx["programme"]["rule_names"]["general"]  # 一般项目, in the city's words
    rows.heading(rows.say("group_heading", group=label, parties=parties,
                          ratio=rule.ratio, remainder=names[rule.remainder_to]))
    rows.add(rows.header(rows.say("item"), rows.say("amount"), rows.say("how")))
    pipeline = ctx["programme"]["rule_names"]["pipeline"]  # what the 资金渠道 column shows for a pipeline line
    general = f'SUMIF({rows.col("rule")},"<>{pipeline}",{rows.col("amount")})'
    if not policy.by_category:
        label, formula = rows.say("general_amount"), general
        how = rows.say("general_how", pipeline=pipeline)
    elif group.key:
        label = rows.say("group_amount", group=group.key)
        formula = (f'SUMIFS({rows.col("amount")},{rows.col("category")},"{group.key}",'
                   f'{rows.col("rule")},"<>{pipeline}")')
        how = rows.say("group_how", group=group.key, pipeline=pipeline)
    else:  # general items of the categories the programme does not list
        label = rows.say("other_amount")
        formula = general + "".join(
            f'-SUMIFS({rows.col("amount")},{rows.col("category")},"{g.key}",'
            f'{rows.col("rule")},"<>{pipeline}")' for g in policy.groups)
        how = rows.say("other_how", pipeline=pipeline)
    items = rows.add(_note_row(1, label, Formula(f"={formula}"), how))
    raised = {k: rows.add(_note_row(no, rows.say("less", what=names[k]), funding.get("raised", funding)[k],
                                    rows.say("raised_how")))
              for no, k in enumerate(policy.raised if group.takes_raised else (), start=2)}
    taken = [f"H{r}" for r in raised.values()]
    deducted = [(names[k], f"H{r}") for k, r in raised.items()]
    paid: dict[str, str] = {}
    no = 2 + len(raised)
    for index, c in enumerate(group.contributions):
        measure = ""
        if c.measure:
            unit = rows.say("floor_area" if c.measure == "floor_area" else "household_count")
            value = ctx["floor_area"] if c.measure == "floor_area" else ctx["community"]["households"]
            measure = f"H{rows.add(_note_row('', unit, value or 0, rows.say('measure_how')))}"
        left = "-".join([f"H{items}", *taken])
        stated = ctx["contributions_said"][f"{group.key}/{index}"]
        r = rows.add(_note_row(no, rows.say("less", what=stated), Formula(f"={c.formula(measure, left)}"),
                               rows.say("contribution_how")))
        taken.append(f"H{r}")
        deducted.append((names[c.party], f"H{r}"))
        paid[c.party] = "+".join(filter(None, [paid.get(c.party, ""), f"H{r}"]))
        no += 1
    numbers = rows.say("list_joiner").join(str(n) for n in range(2, no))
    base_no = no
    base = rows.add(_note_row(base_no, rows.say("base"),
                              Formula("=" + "-".join([f"H{items}", *taken])),
                              rows.say("base_how", numbers=numbers) if taken else rows.say("base_how_alone")))
    # a deduction of nothing is left out of the sentence, as it is when the clerk clears the cell
    less = "".join(CELL + f'IF({ref}=0,"",{rows.tell("derivation_less", what=name, amount=live(ref, AMOUNT))})' + CELL
                   for name, ref in deducted)
    what = rows.say("derivation_group_what", group=label) if policy.by_category else rows.say("derivation_what")
    refs = [ref for _, ref in deducted]
    rows.deducted.extend(refs)
    # "，即…元" only follows a deduction: with none, the base is the sum just named
    said = ""
    if refs:
        said = CELL + f'IF({_none(refs)},"",{rows.tell("derivation_base", base=live(f"H{base}", AMOUNT))})' + CELL
    rows.story.append(rows.tell("derivation_sum", group=label if policy.by_category else "", what=what,
                                items=live(f"H{items}", AMOUNT), less=less, base=said))
    cells = {k: f"H{base + 1 + i}" for i, k in enumerate(rule.shares)}
    split = _formulas(rule, f"H{base}", cells)
    for no, (k, share) in enumerate(rule.shares.items(), start=base_no + 1):
        how = (rows.say("remainder_how", base=base_no, others=len(rule.shares) - 1) if k == rule.remainder_to
               else rows.say("share_how", base=base_no, share=number_text(share), whole=whole))
        rows.add(_note_row(no, rows.say("share_line", party=names[k], fraction=rule.fraction(k)), split[k], how))
    out = dict(cells)
    for k, cell in paid.items():
        out[k] = f"{out[k]}+{cell}" if k in out else cell
    return out, {k: f"H{r}" for k, r in raised.items()}


def _formulas(rule: Split, base: str, cells: dict[str, str]) -> dict[str, Formula]:
    """The split's formulas as workbook cells."""
    return {k: Formula(f"={text}") for k, text in rule.formulas(base, cells).items()}


def _money_heads(rows: _Rows) -> tuple[str, str, str]:
    return rows.say("amount"), rows.say("amount_wan"), rows.say("share")


def _header(number: str, label: str, *heads: str) -> Row:
    # A fixed height: Excel does not grow a row to fit wrapped text when it opens a file.
    row: Row = {"A": number, "B": label, "style": STYLE_HEAD, "merge": ["B:G"], "height": 30}
    row.update(zip("HIJK", heads, strict=False))
    if len(heads) < 4:  # the last heading spans to column K
        row["merge"].append(f"{'HIJK'[len(heads) - 1]}:K")
    return row


def _money_row(
    r: int, no: int | str, label: str, amount: Any, total: str, bold: bool = False
) -> Row:
    # Rounded to what the cell shows (0.01万元, 0.01%), so a column sums to what it prints.
    return {"A": no, "B": label, "H": amount, "I": Formula(f"=ROUND(H{r}/10000,2)"),
            "J": Formula(f"=IF({total}=0,0,ROUND(H{r}/{total},4))"), "merge": ["B:G", "J:K"],
            "bold": bold, "percent": "J"}


def _note_row(no: int | str, label: str, amount: Any, note: str, number_format: str = "") -> Row:
    row: Row = {"A": no, "B": label, "H": amount, "I": note, "merge": ["B:G", "I:K"]}
    if number_format:
        row["format"] = number_format
    return row


def cell_style(letter: str, value: Any, spec: Row) -> str:
    """The named style of one cell of a program-written row that names none for the whole row."""
    if letter == "A":
        return STYLE_CENTER
    if letter == spec.get("percent"):
        return STYLE_PERCENT
    if isinstance(value, (Formula, int, Decimal)) and not isinstance(value, bool):
        return STYLE_MONEY
    return STYLE_TEXT


BUDGET_BLOCKS = Blocks(rows={"budget_summary": budget_summary}, styles=STYLES,
                       number_formats=NUMBER_FORMATS, cell_style=cell_style)
"""What the budget kind plugs into the Excel renderer: ``{%tr budget_summary %}`` and its styles."""
