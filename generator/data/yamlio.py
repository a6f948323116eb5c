"""Read YAML data files exactly: decimals stay Decimal, every value keeps its line number."""

from __future__ import annotations

import gc
import pickle
import re
import stat
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

import yaml

from generator.errors import data_error

Path_ = tuple[str | int, ...]
T = TypeVar("T")


# libyaml's parser when installed: some twenty times faster on a programme of thousands of files.
_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _ExactLoader(_Base):  # type: ignore[valid-type,misc]
    """A safe loader that reads floats as Decimal and refuses duplicate keys."""

    def resolve(self, kind: type, value: str | None, implicit: tuple[bool, bool]) -> str:
        """The tag of a node, as PyYAML's resolver gives it, without its per-call list building.

        libyaml calls this for each of a programme's millions of values: PyYAML's own version
        costs about a tenth of a first start at 10,000 communities. No path resolvers are used.
        """
        if kind is yaml.ScalarNode:
            if implicit[0]:
                for tag, regexp in _IMPLICIT.get(value[:1] if value else "", ()):
                    if regexp.match(value):
                        return tag
            return _STR
        return _SEQ if kind is yaml.SequenceNode else _MAP


_IMPLICIT: dict[str, list[tuple[str, Any]]] = {
    first: list(found) for first, found in _Base.yaml_implicit_resolvers.items() if first is not None
}
_STR, _SEQ, _MAP = (yaml.resolver.BaseResolver.DEFAULT_SCALAR_TAG, yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG,
                    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG)


def _odd_number(text: str) -> yaml.constructor.ConstructorError | None:
    """Why a number is not written the plain decimal way, naming what YAML 1.1 would make of it.

    YAML 1.1 reads 0300 as octal 192, 12:30 as 750 (base 60), 0x12C as 300: a clerk means none
    of that, so each such form is refused with the text as written.
    """
    bare = text.lstrip("+-")
    if bare.lower().startswith("0x"):
        how = "以0x开头，会被当作十六进制数"
    elif bare.lower().startswith("0b"):
        how = "以0b开头，会被当作二进制数"
    elif ":" in bare:
        how = "含冒号，会被当作六十进制数（如时间 12:30 读成 750）"
    elif "_" in bare:
        how = "含下划线“_”"
    elif re.match(r"0[0-9]", bare):
        how = "以0开头，会被当作八进制数（如 0300 读成 192）" if "." not in bare and "e" not in bare.lower() \
            else "以0开头"
    else:
        return None
    return yaml.constructor.ConstructorError(
        None, None, f"“{text}”不是普通写法的数字：{how}；数字请直接写十进制数（不要以0开头，"
                    "不要加下划线或冒号），编号、时间等文字请加引号", None)


def _construct_decimal(loader: _ExactLoader, node: yaml.ScalarNode) -> Decimal:
    raw = str(loader.construct_scalar(node))
    odd = _odd_number(raw)
    if odd is not None:
        odd.problem_mark = node.start_mark
        raise odd
    text = raw.replace("_", "")
    try:
        value = Decimal(text)
    except InvalidOperation as exc:  # .inf / .nan
        raise yaml.constructor.ConstructorError(
            None, None, f"不是有效的数字：{text}", node.start_mark
        ) from exc
    if not value.is_finite():
        raise yaml.constructor.ConstructorError(None, None, f"不是有效的数字：{text}", node.start_mark)
    return value


def _construct_int(loader: _ExactLoader, node: yaml.ScalarNode) -> int:
    raw = str(node.value)
    if raw.isdecimal() and (raw[0] != "0" or len(raw) == 1) and len(raw) < 20:
        return int(raw)  # the plain way, as nearly every number is written
    odd = _odd_number(raw)
    if odd is not None:
        odd.problem_mark = node.start_mark
        raise odd
    try:
        return int(raw)
    except ValueError:  # Python refuses to read an integer of more than 4300 digits
        raise yaml.constructor.ConstructorError(
            None, None, f"数字过长（{len(raw)}位），不是有效的数字", node.start_mark
        ) from None


def _construct_mapping(loader: _ExactLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        try:
            hash(key)
        except TypeError:  # a list or mapping as a key ("? [a, b]")
            raise yaml.constructor.ConstructorError(
                None, None, "found unhashable key", key_node.start_mark
            ) from None
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"字段“{key}”重复出现", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _construct_str(loader: _ExactLoader, node: yaml.ScalarNode) -> str:
    value = str(loader.construct_scalar(node))
    # Only an escape in double quotes ("\ud800") makes half a character; no file can store it
    if node.style == '"' and (half := _SURROGATE.search(value)):
        raise yaml.constructor.ConstructorError(
            None, None, f"双引号内的“\\u{ord(half.group()):04x}”不是完整的字符，请删除或直接写出该字符",
            node.start_mark)
    return value


def _construct_merge(loader: _ExactLoader, node: yaml.ScalarNode) -> Any:
    raise yaml.constructor.ConstructorError(
        None, None, "不支持 YAML 合并键“<<”（把别处的字段并入本项）；请把这些字段在本项中逐个写出",
        node.start_mark)


class BadDate(str):
    """A date-shaped value that is no real date (2018-02-30)."""


def _construct_date(loader: _ExactLoader, node: yaml.ScalarNode) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        # left for the schema check, whose message can then name the field and its line
        return BadDate(node.value)


_ExactLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)
_ExactLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_ExactLoader.add_constructor("tag:yaml.org,2002:str", _construct_str)
# YAML 1.1 reads a lone “=” as a special "value" tag SafeLoader cannot build: here it is text
_ExactLoader.add_constructor("tag:yaml.org,2002:value", _construct_str)
_ExactLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_date)
_ExactLoader.add_constructor("tag:yaml.org,2002:merge", _construct_merge)
_ExactLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)

MAX_BYTES = 64 * 1024 * 1024
"""No data file is read beyond this size (a 100,000-row plan is about 20 MB)."""

MAX_VALUES = 3_000_000
"""Keys, values and lists a file may hold: 100,000 plan rows of a dozen fields each take some
2.6 million and about 1.2 GB while loading; more would exhaust an office PC's memory."""

MAX_DEPTH = 100
"""Nesting deeper than any data file needs. libyaml's composer recurses without checking the
stack, so a file of "[[[[…" a hundred thousand deep would crash the process, not raise."""


def _line_map(root: yaml.Node, out: dict[Path_, int]) -> int:
    """The line of every field path, and the deepest nesting of lists and mappings; an alias
    (*name) is not walked again, so shared subtrees (a "billion laughs" file) cost their size
    once, not once per reference."""
    seen: set[int] = set()
    deepest = 0
    stack: list[tuple[yaml.Node, Path_, int]] = [(root, (), 0)]
    while stack:
        node, path, depth = stack.pop()
        out.setdefault(path, node.start_mark.line + 1)  # a field's own line is its key's line
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            deepest = max(deepest, depth + 1)
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(id(key_node))
                stack.append((value_node, (*path, key), depth + 1))
                out[(*path, key)] = key_node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            deepest = max(deepest, depth + 1)
            stack.extend((item, (*path, index), depth + 1) for index, item in enumerate(node.value))
    return deepest


SAFE_NESTING = 1000
"""Nesting libyaml's composer builds without risk to the stack (it crashed at 30,000 here; a
Windows thread has an eighth of this system's stack)."""


def _checked_after(text: str) -> bool:
    """Whether a file is too small to be too large or too deep to build, so that the values are
    counted and the depth measured on what was built (_too_big's separate pass over the file
    took a sixth of the time a first start spends on 10,000 project files).

    A value takes at least half a character; a list or mapping nested one level deeper needs a
    bracket, or a line indented further (at most two levels per column: a mapping and the list
    that is one of its values start at the same column).
    """
    widest = max(map(len, text.split("\n")))
    if 2 * (widest + 1) + 2 * (text.count("[") + text.count("{")) + 2 > SAFE_NESTING:
        return False
    if 2 * len(text) <= MAX_VALUES:
        return True
    # A large file (a province's plan): every value ends at a line break, a comma, a colon or a
    # bracket, or starts at one of these or at a dash or question mark; no mark serves more than
    # three values (a key ending at a colon, its mapping starting there, an empty value after it).
    marks = sum(text.count(mark) for mark in "\n,:-?[]{}")
    return 3 * (marks + 1) <= MAX_VALUES


def _too_big(text: str) -> tuple[int, str] | None:
    """The line and the reason a file is too deep or too large to build, found from parser
    events before anything is built (the events keep their own stack, so this cannot overflow)."""
    depth = values = 0
    for event in yaml.parse(text, Loader=_Base):
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                return (_line(event), f"YAML 格式错误：括号或缩进嵌套超过{MAX_DEPTH}层，"
                                      "不是数据文件应有的结构")
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1
        elif isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent)):
            values += 1
            if values > MAX_VALUES:
                return (_line(event), f"文件过大：数据项超过{MAX_VALUES // 10000}万个（约10万个小区），"
                                      "超出本工具一次能处理的范围；请按县（区）或年度分成几个数据文件夹")
    return None


def _line(event: yaml.Event) -> int:
    return event.start_mark.line + 1 if event.start_mark else 1


@contextmanager
def gc_paused() -> Iterator[None]:
    """Building a large file's million small objects triggers the collector over and over
    (a 100,000-row plan parses in 8 s instead of 20); nothing built here is garbage. Also
    around a whole first read of a data folder, for the same reason."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_bytes(path: Path, limit: int = MAX_BYTES, *, expected: str = "文件", use: str = "作为数据文件读取",
               advice: str = "或按县（区）、年度分成几个数据文件夹") -> bytes:
    """A regular file's bytes, at most limit of them; a device, a pipe, a folder or a larger file is refused
    (a link to /dev/zero or a FIFO would never end). expected, use and advice word the messages."""
    cap = f"超过本工具能读取的上限（{limit // 1024 // 1024} MB）"
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise data_error(path, f"应为{expected}，现为文件夹")
        if not stat.S_ISREG(info.st_mode):
            raise data_error(path, f"不是普通文件（是设备、管道或套接字），不能{use}")
        if info.st_size > limit:
            raise data_error(path, f"文件过大（{info.st_size / 1024 / 1024:.1f} MB），{cap}；请确认选对了文件"
                                   + (f"，{advice}" if advice else ""))
        with open(path, "rb") as file:
            raw = file.read(limit + 1)
    except FileNotFoundError:
        raise data_error(path, "文件不存在") from None
    except OSError as exc:
        raise data_error(path, f"无法读取文件（{exc.strerror}）") from None
    if len(raw) > limit:  # grew while being read
        raise data_error(path, f"文件过大，{cap}")
    return raw


def read_text(path: Path) -> str:
    """Read a UTF-8 text file (a leading BOM is accepted), refusing other encodings clearly."""
    raw = read_bytes(path)
    if raw.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise data_error(path, "这是 Word、Excel 或 WPS 文件，不是文本文件；"
                               "数据文件须是用记事本等编辑的纯文本（YAML）")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        hint = ""
        try:
            raw.decode("gbk")
            hint = "，看起来是 GBK 编码，请用记事本或 WPS “另存为” UTF-8 编码"
        except UnicodeDecodeError:
            pass
        line = raw[: exc.start].count(b"\n") + 1
        raise data_error(path, f"文件不是 UTF-8 编码{hint}", line=line) from None
    if not text.strip():
        raise data_error(path, "文件是空的")
    return text


class _SlowExactLoader(yaml.SafeLoader):
    """The pure-Python parser: used to explain a syntax error, its messages being the clearer ones."""


for _tag, _fn in _ExactLoader.yaml_constructors.items():
    _SlowExactLoader.add_constructor(_tag, _fn)


def load_yaml(path: Path) -> tuple[Any, Lines]:
    """Load one YAML file; return its data and a map from field path to line number."""
    text = read_text(path)
    later = _checked_after(text)
    try:
        refusal = None if later else _too_big(text)
    except yaml.YAMLError:
        pass  # a syntax error: the pure-Python parser below explains it
    else:
        if refusal is not None:
            raise data_error(path, refusal[1], line=refusal[0])
        try:
            try:
                values, lines = _parse_fast(text, path, later)
            except _Unusual:  # PyYAML's constructor over libyaml's parser, as before the direct builder
                values, lines = _parse(text, _ExactLoader, path, later)
            if len(text) >= COMPACT_FROM:
                values = pickle.loads(_compacted(values))
            return values, lines
        except yaml.YAMLError:
            pass  # explained by the pure-Python parser
    return _parse(text, _SlowExactLoader, path, later)


COMPACT_FROM = 64 * 1024
"""Characters from which a file's values are moved out of the parser's memory (see _compacted)."""


def _compacted(values: Any) -> bytes:
    """A large file's values, pickled; unpickled once the originals are gone.

    The parser's node tree is freed once the values are built, but the values were made
    between its nodes and keep that memory from going back to the system: for a plan of
    10,000 rows some 45 MB, held for as long as the data set. A copy made after the
    originals are freed is packed together.
    """
    return pickle.dumps(values, protocol=pickle.HIGHEST_PROTOCOL)


def _parse(text: str, loader_class: type, path: Path, count: bool = False) -> tuple[Any, dict[Path_, int]]:
    """A file's values and line map; count: refuse it here when it is too deep or too large
    (a file _checked_after lets through)."""
    try:
        data, node = _document(text, loader_class, path, lambda loader, node: loader.construct_document(node))
    except yaml.reader.ReaderError as exc:
        if loader_class is not _SlowExactLoader:
            raise
        at = text.count("\n", 0, exc.position) + 1
        raise data_error(path, f"含有不允许的控制字符（U+{exc.character:04X}），"
                               "请删除后重新保存（常见于从网页或其他软件复制的文字）",
                         line=at) from None
    except RecursionError:
        raise data_error(path, f"YAML 格式错误：括号或缩进嵌套超过{MAX_DEPTH}层，"
                               "不是数据文件应有的结构") from None
    except yaml.MarkedYAMLError as exc:
        if loader_class is not _SlowExactLoader:
            raise  # explained by the pure-Python parser
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = _translate(exc.problem or str(exc))
        long_key = _long_key(text, exc)
        if long_key is not None:
            problem = (f"冒号前的键名超过 {SIMPLE_KEY_LIMIT} 个字符，YAML 不允许这么长的键名；"
                       "请检查这一行是否把值写成了键（冒号前后各写什么）")
            line = long_key
        # an unclosed quote or bracket is noticed far below where it opened: say where that was
        if exc.context_mark and line is not None and exc.context_mark.line + 1 != line:
            problem += f"（相关内容从第{exc.context_mark.line + 1}行开始）"
        raise data_error(path, f"YAML 格式错误：{problem}", line=line) from None
    except ValueError as exc:  # a value PyYAML recognised but could not build
        raise data_error(path, f"无法识别的值：{exc}") from None
    lines: dict[Path_, int] = {}
    with gc_paused():
        deepest = _line_map(node, lines)
    if count and (deepest > MAX_DEPTH or len(lines) > MAX_VALUES):
        _refuse_if_too_big(text, path)
    return data, lines


def _document(text: str, loader_class: type, path: Path, build: Callable[[Any, yaml.Node], T]) -> tuple[T, yaml.Node]:
    """What build makes of a file's one document, and the document's node tree."""
    loader = loader_class(text)
    try:
        with gc_paused():
            node = loader.get_single_node()
            if node is None:
                raise data_error(path, "文件里没有数据")
            return build(loader, node), node
    finally:
        loader.dispose()


def _parse_fast(text: str, path: Path, count: bool) -> tuple[Any, Lines]:
    """A small file's values built straight from libyaml's nodes, its line map made only when asked
    for (a message about a field): on a first start at 10,000 communities PyYAML's constructor
    and the map took more than a third of reading a project file. Anything but plain mappings,
    lists and scalars raises YAMLError, so that load_yaml reads the file the usual way."""
    (data, deepest, values), _ = _document(text, _ExactLoader, path,
                                           lambda loader, node: _Builder(loader).document(node))
    if count and (deepest > MAX_DEPTH or values > MAX_VALUES):
        _refuse_if_too_big(text, path)
    return data, LazyLines(text, path)


def _refuse_if_too_big(text: str, path: Path) -> None:
    refusal = _too_big(text)  # the first place in the file, as the check before building finds it
    if refusal is not None:
        raise data_error(path, refusal[1], line=refusal[0])


class _Unusual(yaml.YAMLError):
    """A node the direct builder leaves to PyYAML's constructor (a tag, an alias loop, a merge key)."""


class _Builder:
    """Values from nodes, as _ExactLoader's constructor makes them, for the nodes data files hold."""

    def __init__(self, loader: _ExactLoader) -> None:
        self.loader = loader
        self.made: dict[int, Any] = {}
        """Lists and mappings built, by node: an alias (*name) gets the same value, built once."""
        self.deepest = 0
        self.values = 0

    def document(self, node: yaml.Node) -> tuple[Any, int, int]:
        """The document's values, its deepest nesting and how many values it holds."""
        return self.build(node, 0), self.deepest, self.values

    def build(self, node: yaml.Node, depth: int) -> Any:
        self.values += 1
        kind = type(node)
        if kind is yaml.ScalarNode:
            make = _SCALARS.get(node.tag)
            if make is None:
                raise _Unusual("tag")
            return make(self.loader, node)
        done = self.made.get(id(node), _NOT_MADE)
        if done is not _NOT_MADE:
            return done
        depth += 1
        if depth > self.deepest:
            self.deepest = depth
            if depth > MAX_DEPTH:
                raise _Unusual("depth")  # refused, with its line, the usual way
        if kind is yaml.MappingNode and node.tag == _MAP:
            mapping: dict[Any, Any] = {}
            self.made[id(node)] = mapping
            for key_node, value_node in node.value:
                if type(key_node) is not yaml.ScalarNode or key_node.tag == _MERGE:
                    raise _Unusual("key")  # refused with its reason the usual way
                if key_node.tag == _STR and key_node.style is None:  # a plain field name, as nearly all are
                    self.values += 1
                    key = key_node.value
                else:
                    key = self.build(key_node, depth)
                if key in mapping:
                    raise _Unusual("key")  # a repeated field, named the usual way
                mapping[key] = self.build(value_node, depth)
            return mapping
        if kind is yaml.SequenceNode and node.tag == _SEQ:
            items: list[Any] = []
            self.made[id(node)] = items
            for item in node.value:
                items.append(self.build(item, depth))
            return items
        raise _Unusual("node")


_NOT_MADE = object()
_MERGE = "tag:yaml.org,2002:merge"


def _construct_null(loader: _ExactLoader, node: yaml.ScalarNode) -> None:
    return None


def _construct_bool(loader: _ExactLoader, node: yaml.ScalarNode) -> bool:
    return loader.bool_values[node.value.lower()]  # type: ignore[no-any-return]


_SCALARS: dict[str, Any] = {
    _STR: _construct_str,
    "tag:yaml.org,2002:value": _construct_str,
    "tag:yaml.org,2002:int": _construct_int,
    "tag:yaml.org,2002:float": _construct_decimal,
    "tag:yaml.org,2002:timestamp": _construct_date,
    "tag:yaml.org,2002:null": _construct_null,
    "tag:yaml.org,2002:bool": _construct_bool,
}


class LazyLines(Mapping[Path_, int]):
    """A small file's line map, made from its text the first time a line is asked for."""

    def __init__(self, text: str, path: Path) -> None:
        self._text, self._path = text, path
        self._lines: dict[Path_, int] | None = None
        self.escaped = "\\" in text
        """Whether the text holds a backslash: only an escape in double quotes makes a control
        character (the reader refuses them raw), so without one no value holds any."""

    def _map(self) -> dict[Path_, int]:
        if self._lines is None:
            lines: dict[Path_, int] = {}
            _document(self._text, _ExactLoader, self._path, lambda loader, node: _line_map(node, lines))
            self._lines, self._text = lines, ""
        return self._lines

    def __getitem__(self, key: Path_) -> int:
        return self._map()[key]

    def __iter__(self) -> Iterator[Path_]:
        return iter(self._map())

    def __len__(self) -> int:
        return len(self._map())


Lines = Mapping[Path_, int]
"""A file's line of each field path."""


_YAML_PROBLEMS = {
    "mapping values are not allowed here": "此处不能出现“键: 值”（缩进或冒号有误）",
    "could not find expected ':'": "缺少冒号“:”",
    "found character '\\t' that cannot start any token": "不能用 Tab 缩进，请用空格",
    "found a tab character": "不能用 Tab 缩进，请用空格",
    "found character": "此处有不能开始一个值的字符（如 @ 或 `），请给这个值加引号",
    "found undefined alias": "引用了未定义的别名",
    "expected alphabetic or numeric character": "“&”或“*”后的别名写法有误，如果是文字请加引号",
    "expected <block end>, but found '-'": "列表项缩进不一致",
    "expected <block end>": "缩进不一致（或上文有未闭合的引号、括号）",
    "block sequence entries are not allowed here": "此处不能出现列表项“-”（缩进有误）",
    "found unexpected end of stream": "文件意外结束（引号或括号未闭合）",
    "found unknown escape character": "双引号内有无效的转义字符“\\”，请改用单引号",
    "expected ',' or ']'": "方括号列表 [ ] 中缺少逗号或右括号“]”",
    "expected ',' or '}'": "花括号 { } 中缺少逗号或右括号“}”",
    "expected a single document": "文件中只能有一份数据（不要使用“---”分隔多份）",
    "but found another document": "文件中只能有一份数据（不要使用“---”分隔多份）",
    "expected '<document start>'": "文件中只能有一份数据（不要使用“---”分隔多份）",
    "expected a comment or a line break": "值的后面有多余的内容",
    "could not determine a constructor": "不支持以“!”开头的类型标记",
    "found unhashable key": "字段名不能是列表或一组字段",
}


SIMPLE_KEY_LIMIT = 1024
"""The longest key YAML reads without a leading “? ”; a longer one reads as a missing colon."""


def _long_key(text: str, exc: yaml.MarkedYAMLError) -> int | None:
    """The line of a key longer than YAML allows, when that is what a missing-colon error comes from."""
    mark = exc.context_mark or exc.problem_mark
    if mark is None or not (exc.problem or "").startswith("could not find expected ':'"):
        return None
    lines = text.splitlines()
    line = lines[mark.line] if mark.line < len(lines) else ""
    return mark.line + 1 if line.find(":") > SIMPLE_KEY_LIMIT else None


def _translate(problem: str) -> str:
    """PyYAML's English problem in words a clerk understands (our own are Chinese already)."""
    for english, chinese in _YAML_PROBLEMS.items():
        if problem.startswith(english):
            return chinese
    if problem.isascii():
        return f"无法解析（{problem}）"
    return problem


def dump_yaml(data: Any) -> str:
    """Write data as readable YAML (Chinese kept as is, Decimal written as a plain number)."""
    return yaml.dump(data, Dumper=_ExactDumper, allow_unicode=True, sort_keys=False, width=120)


class _ExactDumper(yaml.SafeDumper):
    """A safe dumper that writes Decimal without quotes or float rounding."""


def _represent_decimal(dumper: _ExactDumper, value: Decimal) -> yaml.ScalarNode:
    text = format(value, "f")
    if value == value.to_integral_value() and "." not in text:
        return dumper.represent_scalar("tag:yaml.org,2002:int", text)
    return dumper.represent_scalar("tag:yaml.org,2002:float", text)


_ExactDumper.add_representer(Decimal, _represent_decimal)

_YAML_BREAKS = ("\x85", "\u2028", "\u2029")


def _represent_str(dumper: _ExactDumper, value: str) -> yaml.ScalarNode:
    # YAML reads these as line breaks: only the double-quoted style escapes them ("\N", "\L", "\P).
    style = '"' if any(ch in value for ch in _YAML_BREAKS) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_ExactDumper.add_representer(str, _represent_str)
