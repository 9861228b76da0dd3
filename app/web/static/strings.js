// Every word the front end shows, in one place (简体中文, plain words for older readers).
// Functions build sentences with values; nothing else in the code contains user-visible text.

export const S = {
  appName: "民政一次不跑",
  skip: "跳到正文",
  loading: "正在加载,请稍候……",
  back: "返回",
  home: "首页",
  retry: "再试一次",
  saved: "您填写的内容已保存在本机,不会丢失。",
  offline: "网络已断开。恢复网络后,请再点一次按钮;您填写的内容不会丢失。",
  online: "网络已恢复。",
  elderOn: "大字模式:开",
  elderOff: "大字模式:关",
  elderHint: "切换字体大小",
  signOut: "退出登录",
  noscript: "请开启浏览器的 JavaScript 功能后再使用本服务。",

  // Errors, by what happened (never codes or technical text).
  err: {
    offline: "网络连接不上。请检查手机网络后再试,您填写的内容已保存。",
    400: "提交的内容有问题,请检查后再试。",
    401: "登录已过期,请重新登录。您填写的内容已保存。",
    403: "您没有办理这件事的权限。如果是替家人办理,请让家人重新授权。",
    404: "没有找到这条信息,它可能已经处理完了。",
    409: "这件事现在不能这样办理,请返回刷新后再看。",
    413: "提交的内容太多了,请删减一些。",
    415: "提交的内容有问题,请检查后再试。",
    422: "有些内容没有填对,请检查后再试。",
    429: "尝试次数太多了,请过一会儿再试。",
    500: "系统出了点问题,请稍后再试。我们已经记录下来。",
    503: "服务暂时忙不过来,请稍后再试。",
    other: "出了点问题,请稍后再试。",
    retryAfter: (minutes) => `请在 ${minutes} 分钟后再试。`,
  },

  // Sign in.
  login: {
    title: "登录",
    lead: "用微信登录后,就能查看和办理属于您的补贴,不用跑腿。",
    wechatOnly: "请在微信中打开本服务,用微信登录。",
    devBadge: "开发环境:模拟微信登录",
    devExplain: "这是测试用的登录方式,由模拟微信服务代替真实微信。正式环境中没有这个按钮。",
    button: "用微信登录",
    failed: "登录没有成功,请再试一次。",
  },

  // Identity binding.
  bind: {
    title: "确认您的身份",
    lead: "为了保护您的信息,第一次使用需要确认身份。只需填写一次。",
    name: "姓名",
    idNumber: "身份证号",
    idHint: "18位,最后一位可能是 X",
    phone: "手机号",
    phoneHintDev: "开发环境:这里填写的手机号代替微信的“获取手机号”。",
    phoneHint: "请填写在户籍登记时留的手机号",
    button: "确认身份",
    mismatch: "姓名、身份证号和手机号与登记的信息对不上。请核对后再试。",
    elsewhere: "这个身份已经在另一个微信上绑定了。如需改用这个微信，请带身份证到社区服务站办理，工作人员核实后为您更换。",
    pending: "您的手机号是家人共用的,工作人员会核实后通知您,一般不超过3个工作日。",
    invalid: "身份证号的格式不对,请核对后再试。",
    missing: "请把姓名、身份证号和手机号都填上。",
  },

  // Home.
  homeScreen: {
    title: "等您办理的事",
    greeting: (name) => `${name},您好`,
    none: "目前没有需要您确认的事。有新的补贴时,我们会通知您。",
    mine: "我的",
    forOther: (name) => `替${name}办理`,
    proposal: (program) => `${program}:请您确认`,
    open: "查看并确认",
    menu: "其他服务",
  },

  nav: {
    apps: "我的申请",
    benefits: "补贴和发放",
    inbox: "消息",
    family: "家人代办",
    guide: "办事指南",
    settings: "设置",
    lookups: "部门查询记录",
  },

  // Proposal detail.
  detail: {
    title: "申请详情",
    why: "您为什么符合条件",
    checked: "审核核对的情况",
    whyFor: (name) => `${name}为什么符合条件`,
    prefilled: "已为您填好的信息",
    source: (name, date) => (date ? `来源:${name}(${date})` : `来源:${name}`),
    amount: (yuan) => `每月 ${yuan} 元`,
    startMonth: (month) => `从 ${month} 开始发放`,
    confirm: "信息无误,确认申请",
    confirmFor: (name) => `信息无误,替${name}确认`,
    declineLink: "信息不对,或者不需要",
    confirmed: "已确认。结果如下:",
    approved: "申请已通过!",
    rejected: "很抱歉,这次申请没有通过。",
    rate: "给这次服务评个分",
    rated: (text) => `您的评价:${text}`,
    reopen: "我改主意了,重新办理",
    timeline: "办理进度",
    byProxy: (name) => `由${name}代为确认`,
    values: { sex: { F: "女", M: "男" } },
  },

  states: {
    proposed: "等您确认",
    confirmed: "已确认,审核中",
    approved: "已通过",
    rejected: "未通过",
    declined: "已谢绝",
    submitted: "已提交",
    reviewing: "审核中",
    approving: "审批中",
    in_review: "审核中",
    pending: "办理中",
    withdrawn: "已撤回",
    closed: "已办结",
  },

  steps: {
    created: "系统为您准备好申请",
    confirmed: "您确认了信息",
    decided: "审核完成",
    declined: "您谢绝了这次申请",
  },

  // Decline.
  decline: {
    title: "说明原因",
    lead: "告诉我们原因,我们会处理。信息不对时,工作人员会核实更正。",
    reason: "原因",
    not_needed: "我不需要这项补贴",
    data_wrong: "信息有错误",
    other: "其他原因",
    comment: "补充说明(可不填)",
    button: "提交",
    done: "已收到。如果您改变主意,30天内可以重新办理。",
  },

  // Appeal (复核): a second look at a decision, within the filing period (60 days unless the operator says otherwise).
  appeal: {
    title: "申请复核",
    link: "对结果有异议?申请复核",
    lead: (until) => `如果您认为这次的决定有误,可以在 ${until} 前申请复核,由另一位工作人员重新审查。`,
    leadAny: "如果您认为这次的决定有误,可以在规定期限内申请复核,由另一位工作人员重新审查。",
    nothing: "这项补贴现在没有可以申请复核的决定。",
    reason: "复核理由",
    comment: "补充说明(可不填)",
    button: "提交复核申请",
    done: (due) => `复核申请已受理,我们会在 ${due} 前作出决定,结果会通知您。`,
    section: "复核",
    state: (text, due) => `${text},办理时限 ${due}`,
    decided: (text) => `复核决定:${text}`,
    reason_is: (text) => `理由:${text}`,
    withdraw: "撤回复核申请",
    withdrawn: "已撤回复核申请。",
    exists: "这项决定已有一份复核申请正在办理。",
    over: "已超过复核申请期限。您仍可依法申请行政复议或提起行政诉讼。",
    reminded: (day) => `办理时限将至,已于 ${day} 提醒工作人员尽快办理。`,
    urged: (day) => `已超过办理时限,已于 ${day} 催办。`,
    escalated: (day) => `已超过办理时限,已于 ${day} 报请上级督办。`,
    choose: "请选择一个复核理由。",
    remedies: (until) => `如对决定有异议,可在 ${until} 前申请复核;也可依法在60日内申请行政复议,或在6个月内向人民法院提起行政诉讼,申请复核不影响上述期限。`,
    remediesOnly: "如对决定有异议,可依法在60日内申请行政复议,或在6个月内向人民法院提起行政诉讼。",
  },

  // My applications.
  apps: {
    title: "我的申请",
    none: "您还没有申请记录。",
    deadline: (text) => `办理时限:${text}`,
    created: (date) => `开始于 ${date}`,
  },

  // Benefits and payments.
  benefits: {
    title: "补贴和发放",
    none: "您目前没有正在发放的补贴。",
    monthly: (yuan) => `每月 ${yuan} 元`,
    since: (month) => `自 ${month} 起`,
    until: (month) => `至 ${month}`,
    payments: "发放记录",
    noPayments: "还没有发放记录。",
    paid: (month, yuan) => `${month}:${yuan} 元`,
    // a payment line as the roll holds it: paid, waiting for an account, or scheduled (its total with arrears)
    payment: (month, yuan, status, arrears) => `${month}:${yuan} 元` + (Number(arrears) > 0 ? `(含补发 ${arrears} 元)` : "")
      + (status === "no_account" ? ",尚未发放:还没有收款账户,请到社区登记" : status === "scheduled" ? ",待发放" : ",已发放"),
    state: { active: "发放中", suspended: "暂停发放", ended: "已停止", stopped: "已停止" },
    // a stop or suspension is a decision: the same remedies as the letter and the message (行政复议 / 行政诉讼)
    remedies: "如对停发或暂停发放的决定不服,可自收到决定之日起60日内依法申请行政复议,或在6个月内向人民法院提起行政诉讼。",
    proof: "出示电子证明",
    whose: (name) => `替${name}查看`,
    appeal: "对停发或调整有异议?申请复核",
    appealFor: (name) => `替${name}申请复核`,
  },

  // Department look-ups (数据共享查询记录): which department asked about whom, why, when, what it was told.
  lookups: {
    title: "部门查询记录",
    lead: "其他部门为办理业务查询您的信息,或在您的待遇变动时收到通知,都会记在这里。",
    mine: "我的记录",
    whose: (name) => `${name}的记录`,
    none: "还没有部门查询过。",
    purpose: (text) => `用途:${text}`,
    when: (date, time) => `${date} ${time}`,
  },

  // Proof of a benefit (补贴电子证明): the QR code a counter checks.
  proof: {
    title: "补贴电子证明",
    lead: "在窗口或其他部门出示这个二维码,对方扫码就能核验,不用再开纸质证明。",
    qrAlt: (program) => `${program}电子证明二维码`,
    fields: { program: "补贴项目", tier: "档次", name: "姓名", idLast4: "身份证号后4位", until: "有效期至", id: "证明编号" },
    // Tier bands as the programs name them: 80-89 / 100+ (age), 2p (household of 2), grade1 (disability grade).
    tier(t) {
      let m;
      if (!t) return "—";
      if ((m = /^(\d+)-(\d+)$/.exec(t))) return `${m[1]}至${m[2]}岁`;
      if ((m = /^(\d+)\+$/.exec(t))) return `${m[1]}岁及以上`;
      if ((m = /^(\d+)p$/.exec(t))) return `${m[1]}口之家`;
      if ((m = /^grade(\d)$/.exec(t))) return `残疾${m[1]}级`;
      return t;
    },
    text: "证明码文字(二维码扫不出时,可复制给对方)",
    note: "这是核验码,不是国家标准的电子证照。对方会核对您的姓名和身份证号后4位。补贴停发后,证明自动失效。",
    notActive: "这项补贴目前没有在发放,不能开具证明。",
    verifyLink: "打开核验页面",
  },

  // The verification page (/verify).
  verify: {
    title: "核验补贴电子证明",
    lead: "扫描或粘贴补贴电子证明上的二维码,在本机核对签名;联网时再查询补贴是否仍在发放。",
    scan: "扫码",
    camera: "用摄像头扫码",
    cameraStop: "停止扫码",
    cameraLabel: "摄像头画面",
    cameraFailed: "打不开摄像头。请改用上传图片或粘贴文字。",
    upload: "上传二维码图片",
    noDetector: "这个浏览器不能识别图片中的二维码。请把证明下方的证明码文字粘贴到下面。",
    notFound: "图片中没有找到二维码。请换一张清楚的图片,或粘贴证明码文字。",
    paste: "证明码文字(以 ZT1: 开头)",
    button: "核验",
    empty: "请先扫码,或粘贴证明码文字。",
    checking: "正在核验……",
    result: "核验结果",
    trustReady: (at) => `信任列表已下载(${at}),没有网络也能核对签名。`,
    trustMissing: "还没有下载信任列表,现在无法核验。请联网后刷新本页。",
    verdict: {
      valid: "有效:签名正确,补贴正在发放。",
      offline: "签名正确(离线核验)。没有网络,无法查询补贴是否已停发;请联网后再核验一次。",
      unavailable: "签名正确,但现在查询不到补贴是否仍在发放。请稍后再核验一次。",
      revoked: "已撤销:这项补贴已经停发或暂停,这份证明不再有效。",
      expired: "已过期:证明的有效期是31天,请对方重新开具。",
      not_yet_valid: "无效:证明上的日期在将来,请核对本机时间。",
      bad_signature: "无效:签名不对,证明码被改动过,或者是伪造的。",
      malformed: "无效:这不是补贴电子证明码,或者内容不完整。",
      unknown_key: "无效:签发这份证明的密钥不在信任列表中。",
      unsupported_alg: "无效:这份证明使用了本页面不支持的签名方式。",
      not_issued: "无效:签名正确,但系统中没有开具过这份证明。",
      no_trust: "无法核验:还没有下载信任列表。请联网后刷新本页。",
    },
    compare: "请核对对方身份证上的姓名和号码后4位是否一致。",
  },

  // Inbox.
  inbox: {
    title: "消息",
    none: "没有新消息。",
    unread: "未读",
    open: "查看",
    done: "已撤销,立即生效。",
  },

  // Family (proxies).
  family: {
    title: "家人代办",
    lead: "家人可以在手机上替您办理,您随时可以取消。",
    myProxies: "替我办理的家人",
    iHelp: "我帮助的人",
    iManage: (name) => `${name}的其他代办人(由我管理)`,
    none: "还没有。",
    invite: "邀请家人替我办理",
    ask: "申请替家人办理",
    askLead: "填写家人的姓名和身份证号。信息相符时,家人会在自己的手机上收到请求,同意后您就可以替他(她)办理;7天内没有同意,申请自动失效。",
    askName: "家人的姓名",
    askId: "家人的身份证号",
    askRelation: "您是他(她)的",
    askButton: "发出申请",
    askMissing: "请把家人的姓名和身份证号都填上。",
    asked: "申请已发出。信息相符的话,家人会在手机上收到请求;同意后,这里的“我帮助的人”会显示出来。",
    askOpen: "您已经向这位家人发出过申请,请等对方回复(7天内有效)。",
    askBindFirst: "请先完成您本人的实名认证,再申请替家人办理。",
    relations: { child: "子女", spouse: "配偶", sibling: "兄弟姐妹", grandchild: "孙子女/外孙子女",
      other_relative: "其他亲属", guardian: "监护人", other: "其他" },
    inviteLead: "请家人用手机扫描下面的二维码,或把链接发给家人。二维码30分钟内有效,只能用一次。",
    qrAlt: "邀请家人代办的二维码",
    link: "邀请链接",
    expires: (time) => `有效期至 ${time}`,
    revoke: "取消代办",
    confirmGrant: "同意",
    declineGrant: "不同意",
    status: {
      active: "已生效",
      pending_principal: "等待本人同意",
      requested: "等待本人同意",
      pending: "已发出申请,等待对方同意",
      pending_approval: "等待工作人员审核",
      revoked: "已取消",
      declined: "已拒绝",
      expired: "已过期",
      suspended: "已暂停(代办人已解除绑定)",
    },
    until: (date) => `有效至 ${date}`,
    acceptTitle: "接受代办邀请",
    acceptLead: "您的家人邀请您替他(她)办理民政补贴。接受后,您可以查看并替他(她)确认申请。",
    accept: "接受邀请",
    accepted: "已接受。",
    acceptedPending: "已接受,等待对方在手机上同意。",
    needToken: "邀请链接不完整,请让家人重新发送。",
    expired: "这个邀请已经失效,请让家人重新生成二维码。",
    already: "您已经是这位家人的代办人,或者这是您自己的邀请。",
  },

  // Service guide.
  guide: {
    title: "办事指南",
    conditions: "谁可以申请",
    materials: "需要的材料",
    noMaterials: "不需要您提交材料,数据由部门之间共享。",
    process: "办理流程",
    timeLimit: "办理时限",
    amounts: "补贴标准",
    legal: "政策依据",
    place: "办理地点",
    phone: "咨询电话",
    trip: { zero: "一次不跑", once: "最多跑一次", zero_trip: "一次不跑" },
  },

  // Service rating.
  rating: {
    title: "服务评价",
    lead: "请为这次服务打分。您的评价会帮助我们做得更好。",
    level: "您的评价",
    levels: { 1: "非常不满意", 2: "不满意", 3: "基本满意", 4: "满意", 5: "非常满意" },
    comment: "想说的话(可不填)",
    button: "提交评价",
    thanks: "谢谢您的评价!",
    followUp: (date) => `工作人员会在 ${date} 前联系您,了解情况并改进。`,
    notYet: "事情办完后才能评价。",
    already: "您已经评价过这件事了。",
    choose: "请先选择一个评价。",
  },

  // A citizen-started application (the program's own form and texts come from the API).
  apply: {
    menu: (name) => `申请${name}`,
    button: "提交申请",
    done: "已提交,结果会通过消息通知您。",
    none: "暂不能在网上申请",
    unavailable: "这项服务暂不能在网上申请。可以先看办事指南,或拨打咨询电话。",
    draftKept: "您填写的内容会自动保存。",
  },

};

export const fmt = {
  date(iso) {
    if (!iso) return "";
    const d = new Date(iso.length === 10 ? iso + "T00:00:00+08:00" : iso);
    const p = new Intl.DateTimeFormat("zh-CN", { timeZone: "Asia/Shanghai", year: "numeric", month: "numeric", day: "numeric" })
      .formatToParts(d).reduce((o, x) => ({ ...o, [x.type]: x.value }), {});
    return `${p.year}年${p.month}月${p.day}日`;
  },
  time(iso) {
    if (!iso) return "";
    return new Intl.DateTimeFormat("zh-CN", { timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit" })
      .format(new Date(iso));
  },
  month(ym) { return ym ? `${ym.slice(0, 4)}年${Number(ym.slice(5, 7))}月` : ""; },
};

export const stateText = (s) => S.states[s] || S.states.pending;
