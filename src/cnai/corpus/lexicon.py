"""Built-in word lists: surnames, name cues, address cues and sensitive-PI signal words.

These are our own compilations of common Chinese words (not copied from any list); they drive
best-effort detectors whose precision/recall is measured in docs/corpus.md.
"""

from __future__ import annotations

# About 150 common single-character surnames plus common compound surnames. Characters that are far
# more often function words than surnames (和, 於, 是 ...) are left out on purpose.
SURNAMES_1 = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武"
    "戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮"
    "柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古"
    "吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫"
    "寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻"
    "位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦"
    "戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但"
    "尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由傅洪萧赖覃韩蔚"
) - set("和於但由来平全明国海南元信相")
SURNAMES_2 = {
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "慕容", "公孙", "夏侯", "尉迟", "长孙", "宇文",
    "司徒", "端木", "独孤", "南宫", "西门", "轩辕", "万俟", "呼延", "申屠", "太史", "百里",
}

# Words that introduce a person's name ("姓名：张三") and titles that follow one ("张三先生").
NAME_PREFIX_CUES = [
    "姓名", "联系人", "收件人", "收货人", "寄件人", "患者", "病人", "我叫", "名叫", "叫做", "经办人", "负责人",
    "法定代表人", "法人代表", "持卡人", "户主", "申请人", "被告人", "原告", "被告", "当事人", "签名", "学生",
    "员工", "客户", "租客", "房东", "监护人", "家长", "业主",
]
# Cues that are names of roles in ordinary prose too ("学生会", "客户端"): a name after them counts only
# after a colon/space or when the name is followed by punctuation or a title.
WEAK_NAME_PREFIX_CUES = {"学生", "员工", "客户", "租客", "房东", "家长", "业主", "签名"}
NAME_END = set("，。、；：！？,.;:!? \t\n）)”\"")
NAME_SUFFIX_CUES = [
    "先生", "女士", "小姐", "同学", "老师", "医生", "大夫", "律师", "经理", "教授", "师傅", "阿姨", "总监",
    "主任", "院长", "校长", "同志", "警官", "博士",
]
# Reporting verbs after a name ("据张三介绍"); only used when the name starts right after a boundary.
NAME_VERB_CUES = ["介绍", "表示", "主持", "认为", "指出", "说道", "透露", "称", "告诉记者", "回忆"]
NAME_BOUNDARY = set("据由和与及、，。；：！？ \n\t“\"（(")
NAME_STOP = set("的了是在和与及或对向给把被从到为于说也都就又还很这那你我他她它们个之，。、；：！？,.;:!? \t\n\"'“”‘’（）()【】《》")

ADDRESS_STREET = ("路", "街", "道", "巷", "弄", "里", "村", "胡同", "大道", "社区", "小区", "花园", "公寓")
ADDRESS_CUES = ["地址", "住址", "住在", "位于", "寄到", "送到", "搬到", "家在", "居住在", "居住于", "现住", "户籍"]
PLACE_STARTS = [
    "北京", "天津", "上海", "重庆", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "江苏", "浙江", "安徽",
    "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南", "四川", "贵州", "云南", "西藏",
    "陕西", "甘肃", "青海", "宁夏", "新疆", "香港", "澳门", "台湾",
    # large cities, so that "深圳市南山区..." without a province still starts at a known place
    "深圳", "广州", "杭州", "南京", "武汉", "成都", "西安", "苏州", "郑州", "长沙", "沈阳", "青岛", "济南",
    "大连", "宁波", "厦门", "福州", "合肥", "昆明", "哈尔滨", "长春", "石家庄", "太原", "南昌", "南宁", "贵阳",
    "兰州", "乌鲁木齐", "呼和浩特", "东莞", "佛山", "无锡", "温州", "珠海", "海口", "三亚", "拉萨", "银川", "西宁",
]

# Sensitive personal information signals (PIPL Art. 28 categories: biometrics, religious belief,
# specific identity, medical health, financial accounts, whereabouts/location, minors under 14).
SENSITIVE_SIGNALS: dict[str, list[str]] = {
    "health": [
        "病历", "诊断为", "确诊", "病史", "住院", "处方", "化验单", "体检报告", "艾滋病", "HIV阳性", "乙肝", "抑郁症",
        "精神分裂", "癌症", "肿瘤", "糖尿病", "高血压", "心脏病", "怀孕", "流产", "不孕", "性病", "残疾", "病情",
        "就诊记录", "医保卡号",
    ],
    "biometric": [
        "指纹", "人脸信息", "人脸识别", "面部特征", "虹膜", "声纹", "掌纹", "基因", "DNA", "步态", "视网膜", "人脸照片",
    ],
    "religion": [
        "宗教信仰", "信仰基督教", "信仰伊斯兰教", "信仰佛教", "基督徒", "穆斯林", "佛教徒", "受洗", "皈依", "做礼拜",
    ],
    "financial_account": [
        "银行账户", "银行卡号", "信用卡号", "账户余额", "存款", "征信", "贷款记录", "支付密码", "交易记录", "收入证明",
        "工资流水", "银行流水", "开户行", "支付宝账号", "微信支付",
    ],
    "location": [
        "行踪轨迹", "经纬度", "实时定位", "定位信息", "行程记录", "GPS坐标", "位置轨迹", "出行记录", "住宿记录",
    ],
    "minor": [
        "未成年人", "未满十四周岁", "未满14周岁", "不满十四周岁", "儿童", "小学生", "幼儿园", "未成年", "初中生",
    ],
    "identity": [
        "犯罪记录", "前科", "服刑", "性取向", "同性恋", "婚姻状况", "离婚",
    ],
}

# Words near a number that raise confidence for a detected type.
CONTEXT_WORDS: dict[str, tuple[str, ...]] = {
    "cn_resident_id": ("身份证", "证件号", "公民身份号码", "身份号码", "ID"),
    "cn_mobile": ("手机", "电话", "联系方式", "致电", "拨打", "热线", "Tel", "TEL", "微信"),
    "cn_landline": ("电话", "座机", "固话", "传真", "热线", "致电", "拨打", "Tel", "TEL"),
    "bank_card": ("卡号", "银行卡", "账号", "信用卡", "借记卡", "储蓄卡", "开户"),
    "passport": ("护照",),
    "hk_macao_permit": ("通行证", "港澳", "回乡证"),
    "uscc": ("信用代码", "统一社会信用代码", "营业执照", "税号"),
    "ip_address": ("IP", "ip", "地址", "服务器", "主机"),
}
