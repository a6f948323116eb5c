#!/bin/sh
# The Debian packages gaizao uses, installed when missing.
#   sh tools/system.sh run    what building the documents needs (LibreOffice, CJK fonts); when they cannot be
#                             installed it says what is missing and how to install it, and exits 0 so that
#                             everything that does not need them is still built
#   sh tools/system.sh test   the same and Chromium (browser tests); exits 1 when it cannot install
mode=${1:-run}

RUN_PACKAGES="libreoffice-writer-nogui libreoffice-calc-nogui python3-uno fonts-noto-cjk fonts-noto-cjk-extra fonts-lxgw-wenkai poppler-utils fontconfig"
TEST_PACKAGES="$RUN_PACKAGES chromium"

missing=""
need() { missing="$missing${missing:+、}$1"; }
has_font() { command -v fc-list >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "$1"; }

command -v soffice >/dev/null 2>&1 || need "LibreOffice（转换 PDF）"
command -v pdftoppm >/dev/null 2>&1 || need "poppler-utils（PDF 工具）"
[ -e /usr/lib/python3/dist-packages/uno.py ] || need "python3-uno（网页版即时生成 PDF 的常驻 LibreOffice）"
has_font "noto sans cjk sc" || need "思源黑体 Noto Sans CJK SC（报告图表）"
has_font "noto serif cjk sc light" || need "思源宋体 Noto Serif CJK SC（PDF 中的仿宋、宋体、小标宋）"
has_font "lxgw wenkai" || need "霞鹜文楷 LXGW WenKai（PDF 中的楷体）"
packages=$RUN_PACKAGES
if [ "$mode" = test ]; then
    command -v chromium >/dev/null 2>&1 || need "Chromium（网页版的浏览器测试）"
    packages=$TEST_PACKAGES
fi
[ -z "$missing" ] && exit 0

echo "本机缺少：$missing。"
if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; else sudo="none"; fi
if ! command -v apt-get >/dev/null 2>&1; then
    why="本机没有 apt-get（不是 Debian、统信 UOS 或银河麒麟等系统）"
elif [ "$sudo" = none ]; then
    why="当前用户不是管理员，本机也没有 sudo"
elif echo "正在安装系统软件包：$packages" && $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $packages; then
    exit 0
else
    why="apt-get 安装失败（见上方信息）"
fi

echo "未能安装系统软件包：$why。"
echo "缺少：$missing。"
echo "请由管理员安装后重新运行：sudo apt-get install -y $packages"
if [ "$mode" = test ]; then
    exit 1
fi
echo "本次仍生成不依赖这些软件包的全部文书，跳过的文书在结尾列出。"
exit 0
