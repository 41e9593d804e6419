"""Chinese text for generated complaints and people, in the categories of the seed story.

Titles and contents are combined from places, problems and details, so a search word such as
楼道 (stairwell) occurs in a few per cent of complaints, as it would in real ones, not in all or
none. Nothing here contains a tab, newline or backslash, so lines can go to COPY unescaped.
"""

from __future__ import annotations

import random

# (place, weight): 楼道 is one place among many.
PLACES = [
    ("楼道", 3),
    ("单元门口", 6),
    ("小区东门", 5),
    ("小区南门", 5),
    ("地下车库", 5),
    ("楼前空地", 6),
    ("健身广场", 4),
    ("绿化带", 5),
    ("电梯间", 4),
    ("自行车棚", 3),
    ("垃圾站", 5),
    ("小区主路", 6),
    ("人行道", 5),
    ("背街小巷", 4),
    ("菜市场周边", 4),
    ("幼儿园门口", 3),
    ("公交站旁", 3),
    ("楼后", 5),
    ("配电房旁", 2),
    ("社区活动中心", 3),
]

# category code -> (problem for the title, what the resident saw, what the handler replied)
PROBLEMS: dict[str, list[tuple[str, str, str]]] = {
    "environment": [
        ("垃圾堆积", "垃圾两三天没有清运，气味很大，招来很多蚊蝇", "已协调环卫公司清运并增加清运频次"),
        ("杂物堆放", "堆满纸箱和旧家具，影响通行，存在消防隐患", "已联系物业和住户清理，通道已畅通"),
        ("污水外溢", "污水井冒水，地面又脏又滑", "已疏通管道并冲洗路面"),
        ("卫生死角", "长期没人打扫，落叶和塑料袋很多", "已安排保洁人员每日清扫"),
        ("宠物粪便", "经常有狗粪没人清理", "已张贴文明养犬提示并加强巡查"),
    ],
    "property": [
        ("电梯故障", "电梯一周内停了三次，老人上下楼很困难", "物业已请维保单位检修并更换控制板"),
        ("门禁损坏", "门禁坏了半个月，外来人员随意进出", "物业已更换门禁主板"),
        ("照明不亮", "灯坏了很久，晚上黑漆漆的，老人孩子容易摔倒", "物业已更换灯具"),
        ("屋顶漏水", "下雨就漏水，墙皮都泡坏了", "物业已组织防水维修"),
        ("保洁不到位", "保洁很久没来，地面很脏", "已督促物业落实保洁责任"),
    ],
    "infrastructure": [
        ("路灯不亮", "两盏路灯不亮，晚上走路不安全", "已报修供电部门，路灯恢复照明"),
        ("井盖松动", "井盖松动，车辆经过声音很大", "已联系市政部门固定井盖"),
        ("下水道堵塞", "下水道返水，味道难闻", "已安排疏通，管道恢复正常"),
        ("路面破损", "路面坑洼积水，电动车容易摔倒", "已协调施工单位修补路面"),
        ("供暖不热", "暖气片不热，室温只有十几度", "已联系热力公司排查并放气"),
    ],
    "urban": [
        ("占道经营", "摊贩占用人行道，行人只能走机动车道", "城管中队已劝导摊贩进入规定区域经营"),
        ("乱停车", "私家车长期停放，堵住了消防通道", "已张贴告知书并联系车主挪车，增设禁停标识"),
        ("小广告乱贴", "墙面贴满小广告，很不美观", "已组织志愿者清理"),
        ("违章搭建", "有人私自搭建彩钢棚", "城管中队已下达整改通知并拆除"),
        ("噪音扰民", "深夜施工噪音很大，影响休息", "已上门沟通，施工方承诺按规定时间作业"),
    ],
    "epidemic": [
        ("公共区域消杀", "希望加强电梯按钮和扶手的消毒", "物业已每日两次消杀并登记"),
        ("防疫物资", "希望在出入口放置免洗洗手液", "已在各出入口配置洗手液"),
        ("疫苗接种咨询", "想了解老人接种疫苗的时间和地点", "已电话告知接种安排"),
    ],
    "other": [
        ("建议增设座椅", "老人散步累了没地方坐", "已协调增设休息座椅"),
        ("邻里纠纷", "邻居长期占用公共区域，协商未果", "网格员已上门调解，双方达成一致"),
        ("养犬管理", "有人遛狗不拴绳，孩子很害怕", "已上门宣传文明养犬规定"),
        ("便民服务建议", "希望附近能开设便民维修点", "已联系便民服务中心定期上门服务"),
    ],
}
CATEGORY_SHARE = {"environment": 30, "property": 25, "infrastructure": 18, "urban": 15, "epidemic": 4, "other": 8}

SINCE = ["最近一周", "这几天", "已经半个多月", "一个多月来", "从上周开始", "今天早上发现"]
WISHES = ["希望尽快处理", "请相关部门帮忙解决", "麻烦网格员过来看看", "希望社区协调一下", "盼早日解决"]

REJECT_NOTE = "经核实不属于社区管辖范围，已告知居民向相关单位反映。"
REOPEN_NOTE = "问题反复出现，希望彻底解决。"
DISPATCH_NOTE = "需职能部门现场处置。"
FEEDBACK = ["处理及时，很满意。", "问题解决了，谢谢网格员。", "速度还可以。", "基本解决，希望保持。"]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红梅鑫斌宇浩凯健俊帆帅旭宁欣怡晨阳雪琳颖倩婷丹建国志文海波鹏飞辉"

PURPOSES = ["广场舞排练", "老年大学书法课", "楼栋议事会", "亲子读书会", "志愿者培训", "合唱团排练", "党员学习会"]
APPOINTMENT_DESCRIPTIONS = {
    "mediation": "与楼上邻居因漏水赔偿问题产生纠纷，协商未果，希望社区调解。",
    "legal-aid": "被拖欠工资三个月，想咨询如何申请法律援助。",
    "notary": "需要办理房屋继承公证，想了解需要准备哪些材料。",
    "judge": "小额借款纠纷，想咨询诉讼流程。",
    "petition": "反映小区加装电梯意见不一致的问题。",
    "counselling": "孩子升学压力大，情绪低落，希望预约心理咨询。",
}


class Stories:
    """A few thousand distinct (title, content, resolution) per category, drawn at random."""

    def __init__(self, chooser: random.Random, per_category: int = 1500) -> None:
        places, weights = zip(*PLACES, strict=True)
        self.by_category: dict[str, list[tuple[str, str, str]]] = {}
        for code, problems in PROBLEMS.items():
            stories = []
            for _ in range(per_category):
                place = chooser.choices(places, weights)[0]
                problem, detail, reply = chooser.choice(problems)
                building = f"{chooser.randint(1, 30)}号楼" if chooser.random() < 0.5 else ""
                title = f"{place}{problem}"
                content = f"{building}{place}{chooser.choice(SINCE)}{detail}，{chooser.choice(WISHES)}。"
                stories.append((title, content, f"{reply}。"))
            self.by_category[code] = stories


def person_name(chooser: random.Random) -> str:
    given = chooser.choice(GIVEN) + (chooser.choice(GIVEN) if chooser.random() < 0.7 else "")
    return chooser.choice(SURNAMES) + given
