"""Every word the editor shows, in one table: key → (Chinese, English).

Pages call `t(key, lang, **values)`; Chinese is the default (the users are Chinese operations
staff), English is a switch in the sidebar. A key missing here is a bug the tests catch
(tests/ui/test_labels.py reads every ``t("…")`` in ui/). Messages that come from the service
layer (errors, diff lines) are shown as they are.
"""

from __future__ import annotations

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

LABELS: dict[str, tuple[str, str]] = {
    # sign-in and the frame
    "app.title": ("订单聚合中心 · 编辑器", "orderhub editor"),
    "lang": ("语言", "Language"),
    "signin.title": ("登录", "Sign in"),
    "signin.user": ("用户名", "User"),
    "signin.password": ("密码", "Password"),
    "signin.button": ("登录", "Sign in"),
    "signin.expired": (
        "长时间未操作，已自动退出，请重新登录。",
        "Signed out after being idle; sign in again.",
    ),
    "signin.as": ("{user} · 角色", "{user} · role"),
    "signout": ("退出登录", "Sign out"),
    "page": ("页面", "Page"),
    "page.workflow": ("流程", "Workflow"),
    "page.history": ("版本历史", "History"),
    "page.queues": ("待处理队列", "Queues"),
    "page.orders": ("订单", "Orders"),
    "page.dashboard": ("概览", "Dashboard"),
    "page.audit": ("审计日志", "Audit"),
    "nothing": ("暂无内容。", "Nothing here yet."),
    "no.workflow": ("还没有保存过流程版本。", "No workflow version has been saved yet."),
    "workflow": ("流程", "Workflow"),
    # roles
    "role.admin": ("管理员", "admin"),
    "role.ops_manager": ("运营经理", "operations manager"),
    "role.reviewer": ("审核员", "reviewer"),
    "role.warehouse": ("仓库", "warehouse"),
    "role.finance": ("财务", "finance"),
    "role.auditor": ("审计", "auditor"),
    # workflow page
    "wf.editing": (
        "正在编辑：基于 v{number}（{active}）",
        "Editing: based on v{number} ({active})",
    ),
    "wf.active": ("当前生效", "active"),
    "wf.inactive": ("未生效", "not active"),
    "wf.tab.graph": ("流程图", "Graph"),
    "wf.tab.yaml": ("YAML", "YAML"),
    "wf.tab.save": ("保存", "Save"),
    "wf.params": ("流程参数", "Workflow params"),
    "wf.node": ("节点", "Node"),
    "wf.node.pick": ("选择节点", "Pick a node"),
    "wf.node.type": ("类型：{type}", "Type: {type}"),
    "wf.node.critical": ("关键节点", "critical node"),
    "wf.node.counts": (
        "当前等待 {waiting} · 今日通过 {passed}",
        "waiting now {waiting} · passed today {passed}",
    ),
    "wf.node.template": ("由流程参数决定：{value}", "set by a workflow param: {value}"),
    "wf.node.apply": ("应用到草稿", "Apply to draft"),
    "wf.node.routes": ("路由", "Routes"),
    "wf.table.key": ("省份", "province"),
    "wf.table.value": ("仓库", "warehouse"),
    "wf.struct": ("结构修改", "Structure"),
    "wf.struct.denied": ("结构修改需要管理员。", "Structural edits need an admin."),
    "wf.add": ("新增节点", "Add a node"),
    "wf.add.id": ("节点 ID", "Node id"),
    "wf.add.type": ("节点类型", "Node type"),
    "wf.add.button": ("新增", "Add"),
    "wf.connect": ("连接路由", "Connect a route"),
    "wf.connect.from": ("从节点", "From node"),
    "wf.connect.route": ("结果", "Outcome"),
    "wf.connect.to": ("到节点", "To node"),
    "wf.connect.button": ("连接", "Connect"),
    "wf.remove": ("删除节点", "Remove a node"),
    "wf.remove.button": ("删除", "Remove"),
    "wf.yaml.ok": ("文档有效。", "The document is valid."),
    "wf.yaml.apply": ("用此文本作为草稿", "Use this text as the draft"),
    "wf.draft.reset": ("放弃草稿", "Discard the draft"),
    "wf.draft.changed": ("草稿有 {n} 处改动", "The draft has {n} changes"),
    "wf.draft.same": ("草稿与基础版本相同。", "The draft equals its base version."),
    "wf.readonly": ("此角色只能查看流程。", "This role may only look at the workflow."),
    # save
    "save.message": ("保存说明", "Message"),
    "save.preview": ("预览改动与回放", "Preview diff and replay"),
    "save.diff": ("语义差异", "Semantic diff"),
    "save.replay": ("最近 7 天订单回放", "Replay of the last 7 days"),
    "save.replay.summary": (
        "{orders} 个订单中有 {changed} 个结果会改变",
        "{changed} of {orders} orders would be decided differently",
    ),
    "save.replay.oversold": ("{n} 个订单会超卖", "{n} orders would oversell"),
    "save.replay.none": ("没有可比较的生效版本。", "No active version to compare with."),
    "save.confirm": (
        "我已看过改动和回放，确认保存",
        "I have seen the diff and the replay; save it",
    ),
    "save.activate": ("保存后立即生效", "Make it active once saved"),
    "save.button": ("保存新版本", "Save version"),
    "save.done": ("已保存 v{number}", "Saved v{number}"),
    "save.await": (
        "v{number} 需要另一位同事审批后才能生效。",
        "v{number} needs a second person's approval before it runs.",
    ),
    "save.meanwhile": (
        "有人在此期间保存了 v{number}，他们的改动：",
        "Someone saved v{number} meanwhile; their change:",
    ),
    "save.rebase": ("基于最新版本重新编辑", "Edit on top of the latest version"),
    "save.need.message": ("请写保存说明。", "Write a message first."),
    # history
    "hist.number": ("版本", "version"),
    "hist.author": ("作者", "author"),
    "hist.time": ("时间", "time"),
    "hist.message": ("说明", "message"),
    "hist.active": ("生效", "active"),
    "hist.approval": ("审批", "approval"),
    "hist.replay": ("回放", "replay"),
    "hist.compare": ("比较两个版本", "Compare two versions"),
    "hist.old": ("旧版本", "older"),
    "hist.new": ("新版本", "newer"),
    "hist.text": ("文本差异", "Text diff"),
    "hist.rollback": ("回滚", "Roll back"),
    "hist.rollback.to": ("回滚到", "Roll back to"),
    "hist.reason": ("原因", "Reason"),
    "hist.rollback.button": ("回滚到 v{number}", "Roll back to v{number}"),
    "hist.rolled": (
        "已回滚：v{number} 现为生效版本（内容同 v{restored}）",
        "Rolled back: v{number} is active (the content of v{restored})",
    ),
    "hist.approve": ("审批 v{number}", "Approve v{number}"),
    "hist.activate": ("启用 v{number}", "Activate v{number}"),
    "hist.approved": ("已审批", "approved"),
    "hist.waiting": ("待审批", "awaiting approval"),
    # queues
    "q.queue": ("队列", "Queue"),
    "q.all": ("全部", "all"),
    "q.filter": ("筛选（原因包含）", "Filter (reason contains)"),
    "q.reason": ("决定原因", "Reason for the decision"),
    "q.release": ("放行", "Release"),
    "q.merge": ("合并", "Merge"),
    "q.cancel": ("取消", "Cancel"),
    "q.retry": ("重试", "Retry"),
    "q.reroute": ("改派", "Reroute"),
    "q.restocked": ("已补货", "Restocked"),
    "q.why": ("原因", "Reason"),
    "q.raw": ("平台原始记录", "The platform's raw record"),
    "q.bulk": (
        "批量处理：{queue} 中有 {n} 个订单符合筛选",
        "Bulk decision: {n} orders in {queue} match the filter",
    ),
    "q.bulk.pick": ("选择一个队列后可批量处理。", "Pick a queue to decide in bulk."),
    "q.bulk.more": ("…… 另有 {n} 个", "… and {n} more"),
    "q.bulk.none": (
        "这些订单没有共同可做的决定，请逐个处理。",
        "These orders share no decision; decide them one by one.",
    ),
    "q.bulk.decision": ("批量决定", "Decision for all"),
    "q.bulk.confirm": (
        "确认对这 {n} 个订单执行「{decision}」",
        "Yes, {decision} all {n} orders",
    ),
    "q.bulk.button": ("{decision}（{n} 个）", "{decision} ({n})"),
    "q.bulk.done": (
        "已对 {n} 个订单执行「{decision}」；现在：{now}",
        "{decision}: {n} orders decided; now {now}",
    ),
    "q.done": ("{ref}：{status}", "{ref}: {status}"),
    "q.need.reason": ("请写决定原因。", "Write a reason first."),
    # orders
    "o.search": ("订单号或手机号", "Order ref or phone"),
    "o.found": ("找到 {n} 个订单", "{n} orders found"),
    "o.receiver": ("收件人", "Receiver"),
    "o.runs": ("处理记录", "Runs"),
    "o.run": ("第 {id} 次处理 · {version} · {status}", "Run {id} · {version} · {status}"),
    # dashboard
    "d.daily": ("每日指标（按渠道）", "Daily figures per channel"),
    "d.after_sales": ("售后", "After-sales"),
    "d.as.cycle": (
        "售后周期（申请 → 退款或换货，小时，按渠道和申请日的中位数）",
        "Cycle time (request → refund or exchange, hours, median per channel and request day)",
    ),
    "d.as.channels": ("退货率（按渠道：退货和换货 / 已发货订单）", "Return rate per channel"),
    "d.as.skus": ("退货率最高的 SKU（退回件数 / 发货件数）", "Highest return rates per SKU"),
    "d.as.failures": ("质检不合格率（共质检 {n} 件）", "Inspection failure rate ({n} inspected)"),
    "d.queues": ("队列深度", "Queue depths"),
    "d.status": ("今日订单状态", "Orders by status today"),
    "d.channels": ("各渠道订单", "Orders per channel"),
    "d.systems": ("外部系统（熔断器）", "External systems (breakers)"),
    "d.state.closed": ("正常", "closed"),
    "d.state.open": ("已熔断", "open"),
    "d.state.half_open": ("试探中", "half open"),
    "d.waiting": ("等待 {system} 的订单：{refs}", "Orders waiting for {system}: {refs}"),
    "d.breaker.change": ("手动熔断 / 恢复", "Open or close a breaker by hand"),
    "d.breaker.system": ("系统", "System"),
    "d.breaker.action": ("操作", "Action"),
    "d.breaker.open": ("熔断（停止调用）", "Open (stop calls)"),
    "d.breaker.close": ("恢复（继续调用）", "Close (calls resume)"),
    "d.breaker.reason": ("原因（记入审计日志）", "Reason (goes in the audit log)"),
    "d.breaker.apply": ("执行", "Apply"),
    "d.breaker.need.reason": ("请写原因。", "Write a reason first."),
    "d.breaker.done": ("{system}：{state}", "{system}: {state}"),
    # audit
    "a.who": ("操作人", "Who"),
    "a.what": ("操作", "What"),
    "a.since": ("起始日期", "Since"),
    "a.chain.ok": ("哈希链完整（{n} 条记录）", "The hash chain is intact ({n} records)"),
    "a.chain.bad": ("哈希链有问题：", "The hash chain has problems:"),
}


def t(key: str, lang: str = DEFAULT_LANG, **values: object) -> str:
    """The label `key` in `lang` (Chinese unless English is chosen), with `values` filled in."""
    zh, en = LABELS[key]
    text = en if lang == "en" else zh
    return text.format(**values) if values else text
