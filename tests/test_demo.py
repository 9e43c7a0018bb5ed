"""`salon-edge demo` walks through a day and prints correct tickets."""

from __future__ import annotations

import io
import subprocess
import sys

from hub import demo
from hub.cli import main


def _run(locale: str = "zh_CN") -> str:
    out = io.StringIO()
    assert demo.run(out, locale) == 0  # type: ignore[arg-type]
    return out.getvalue()


def test_demo_prints_each_step_of_the_day_in_chinese() -> None:
    text = _run()
    # Amounts as the GBK printer prints them: full-width ￥, two columns wide.
    for expected in (
        "充值小票",
        "赠送金额                ￥200.00",
        "面部护理10次卡",
        "会员折扣              -￥12.80",  # gold tier: 9折 on the ¥128 cut
        "应收                    ￥115.20",
        "次卡抵扣1次           ￥198.00",  # one session of ¥1,980 / 10
        "剩余 9 次",
        "积分抵扣              -￥10.00",
        "找零                     ￥50.40",
        "储值余额不足",
    ):
        assert expected in text, expected


def test_demo_shows_a_booked_day_a_check_in_a_walk_in_a_low_stock_alert_and_a_shift_close(
) -> None:
    text = _run()
    for expected in (
        "Tony  11:00-11:45  精剪造型  李**",  # the day's bookings, names masked
        "Amy  13:00-13:20  洗吹  赵**",  # "anyone": the free stylist
        "预约被拒：S004 该时段已有预约；可约时间：11:45, 12:00, 12:15",
        "已签到，Tony 开始服务",
        "轮牌：1 号分配给 Amy",  # Tony is in service with the booked customer
        "库存预警：修护洗发水 500ml 剩 4 件（低于 5）",
        "现金：应有 ¥649.60  实点 ¥649.60  差额 ¥0.00",  # the float and the cash sale
        "本班 4 张单据，1 笔充值，售出 1 张次卡",
    ):
        assert expected in text, expected


def test_demo_never_shows_a_whole_phone_number_or_name() -> None:
    text = _run()
    assert "13812345678" not in text and "张三丰" not in text
    assert "李女士" not in text and "13900001111" not in text
    assert "138****5678" in text


def test_demo_spends_principal_before_bonus() -> None:
    text = _run()
    # After the ¥115.20 haircut paid by stored value, the principal is ¥884.80, bonus intact.
    assert "储值余额（本金）        ￥884.80" in text
    assert "储值余额（赠送）        ￥200.00" in text


def test_demo_speaks_english_when_asked() -> None:
    text = _run("en")
    assert "Sales receipt" in text and "Total due" in text


def test_salon_edge_demo_command_exits_zero() -> None:
    assert main(["demo", "--lang", "en"]) == 0
    done = subprocess.run(
        [sys.executable, "-m", "hub", "demo"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "今日小结" in done.stdout
