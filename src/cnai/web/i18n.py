"""UI strings in English and Chinese. Legal content (duty summaries, titles) stays as the knowledge base has it."""

from __future__ import annotations

LANGS = ("en", "zh")

_T: dict[str, tuple[str, str]] = {
    "app": ("cnai workspace", "cnai 合规工作台"),
    "nav.services": ("Services", "服务"),
    "nav.duties": ("Duties", "义务"),
    "nav.law": ("Law", "法规"),
    "nav.labels": ("Labels", "标识"),
    "nav.assess": ("Assessments", "安全评估"),
    "nav.corpus": ("Corpus audits", "语料审计"),
    "nav.dossier": ("Dossier", "备案材料"),
    "nav.jobs": ("Jobs", "任务"),
    "services.title": ("Services", "服务"),
    "services.new": ("New service", "新建服务"),
    "services.none": ("No services yet. Create one or import a profile YAML.", "还没有服务。新建一个或导入画像 YAML。"),
    "services.import": ("Import profile YAML", "导入画像 YAML"),
    "services.export": ("Export YAML", "导出 YAML"),
    "services.edit": ("Edit profile", "编辑画像"),
    "services.history": ("History of changes", "修改历史"),
    "services.version": ("version", "版本"),
    "services.save": ("Save", "保存"),
    "services.unknown": ("unknown", "未知"),
    "services.yes": ("yes", "是"),
    "services.no": ("no", "否"),
    "services.none_of": ("none of these", "以上都不是"),
    "services.omitted": ("Anything left empty stays unknown — never read as false.",
                         "留空的项目视为未知，绝不当作“否”。"),
    "duties.title": ("Duties", "义务"),
    "duties.as_of": ("as of", "截至"),
    "duties.filter": ("Filter", "筛选"),
    "duties.status": ("status", "适用状态"),
    "duties.instrument": ("instrument", "法规"),
    "duties.actor": ("actor", "主体"),
    "duties.state": ("deadline", "期限"),
    "duties.all": ("all", "全部"),
    "duties.open_default": ("applies + needs info", "适用 + 需补充信息"),
    "duties.open_questions": ("Open questions", "待回答的问题"),
    "duties.open_help": ("Each answer is saved as a new version of the profile and the duties are recomputed.",
                         "每个回答都保存为画像的新版本，并重新计算义务。"),
    "duties.answer": ("Answer", "回答"),
    "duties.mark_done": ("Mark done", "标记完成"),
    "duties.done_on": ("done on", "完成日期"),
    "duties.owner": ("owner", "负责人"),
    "duties.evidence": ("evidence file", "证据文件"),
    "duties.undo": ("Undo", "撤销"),
    "duties.actions_xlsx": ("Action list (XLSX)", "行动清单 (XLSX)"),
    "duties.actions_csv": ("Action list (CSV)", "行动清单 (CSV)"),
    "duties.ics": ("Deadlines calendar (iCal)", "期限日历 (iCal)"),
    "duties.missing": ("missing", "缺少"),
    "state.done": ("done", "已完成"),
    "state.overdue": ("overdue", "已逾期"),
    "state.due": ("due", "待完成"),
    "state.no_date": ("no date", "无期限"),
    "state.needs_info": ("needs info", "需补充信息"),
    "status.applies": ("applies", "适用"),
    "status.needs_info": ("needs info", "需补充信息"),
    "status.not_applicable": ("not applicable", "不适用"),
    "law.title": ("Law", "法规"),
    "law.search": ("Search", "搜索"),
    "law.search_help": ("Chinese or English, e.g. 训练数据 个人信息 or 'label generated images'",
                        "中文或英文，如“训练数据 个人信息”"),
    "law.timeline": ("Timeline of effective dates", "生效时间线"),
    "law.instruments": ("Instruments", "法规文件"),
    "law.articles": ("Articles", "条款"),
    "law.obligations": ("Duties", "义务"),
    "labels.title": ("Labels (GB 45438)", "标识（GB 45438）"),
    "labels.upload": ("Upload files to check", "上传文件检查"),
    "labels.embed": ("Embed label", "嵌入标识"),
    "labels.producer": ("provider code (27 characters)", "服务提供者编码（27 位）"),
    "labels.download": ("Download labelled file", "下载已标识文件"),
    "assess.title": ("Assessments (GB/T 45654)", "安全评估（GB/T 45654）"),
    "assess.start": ("Start an assessment", "开始评估"),
    "assess.target": ("target", "被测目标"),
    "assess.api_key": ("API key (kept in memory only)", "API 密钥（仅保存在内存）"),
    "assess.sample": ("sample", "抽样"),
    "assess.cancel": ("Cancel", "取消"),
    "assess.resume": ("Resume", "继续"),
    "assess.compare": ("Compare two runs", "比较两次评估"),
    "assess.review": ("Review queue", "人工复核队列"),
    "assess.by_risk": ("Per-risk rates with 95% intervals", "各风险合格率及 95% 置信区间"),
    "assess.pass": ("pass", "合格"),
    "assess.fail": ("fail", "不合格"),
    "corpus.title": ("Corpus audits", "语料审计"),
    "corpus.launch": ("Launch an audit", "开始审计"),
    "corpus.import": ("Import an audit summary (summary.json)", "导入审计结果 (summary.json)"),
    "corpus.sample": ("Review sample", "复核样本"),
    "dossier.title": ("Filing dossier", "备案材料"),
    "jobs.status": ("status", "状态"),
    "jobs.progress": ("progress", "进度"),
    "common.go": ("Go", "确定"),
    "common.upload": ("Upload", "上传"),
    "common.start": ("Start", "开始"),
    "common.error": ("Error", "错误"),
    "common.download": ("Download", "下载"),
    "common.created": ("created", "创建"),
    "common.none": ("nothing yet", "暂无"),
    "footer": ("cnai is a working aid, not legal advice. Duties cite their article and carry a confidence marker.",
               "cnai 是工作辅助工具，不构成法律意见。每项义务均注明条款出处和可信度标记。"),
}


def translate(key: str, lang: str) -> str:
    pair = _T.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "zh" else pair[0]


def pick_lang(query: str | None, cookie: str | None, accept: str | None) -> str:
    for v in (query, cookie):
        if v in LANGS:
            return v
    if accept and accept.lower().startswith("zh"):
        return "zh"
    return "en"
