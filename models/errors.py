"""Every code the server can answer with, in one enum: a mutation's `UserError.code`, a GraphQL
error's `extensions.code`, and the errors of `/uploads` and of requests refused before GraphQL
runs.

One shared enum rather than one per domain: the same NOT_FOUND, INVALID, FORBIDDEN,
INVALID_ID, INVALID_TRANSITION and CONFLICT come from every domain, and a client handles codes
in one place (an Apollo error link, a `wx.request` wrapper), switching over one closed set that
graphql-codegen turns into one TypeScript union. Per-domain copies would repeat those values
under different type names and make that one switch impossible.

It lives in `models`, the bottom layer, because codes start everywhere: a file's check
(models.media), a use case (resolvers), the transport (server). The value is the name, which is
what goes over the wire; the description of each member is the API's documentation of it,
mirrored into the SDL (schema.common.ErrorCodeType). A member without a description fails the
schema's import.
"""

from __future__ import annotations

import enum


class ErrorCode(enum.StrEnum):
    # --- any mutation or query ----------------------------------------------------------------
    INVALID = "INVALID"
    INVALID_ID = "INVALID_ID"
    INVALID_CURSOR = "INVALID_CURSOR"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    OUT_OF_SCOPE = "OUT_OF_SCOPE"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    CONFLICT = "CONFLICT"
    DUPLICATE = "DUPLICATE"
    NAME_TAKEN = "NAME_TAKEN"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    TENANT_REQUIRED = "TENANT_REQUIRED"
    # --- signing in, accounts, SMS codes, WeChat ----------------------------------------------
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    ACCOUNT_LOCKED = "ACCOUNT_LOCKED"
    ACCOUNT_DISABLED = "ACCOUNT_DISABLED"
    WRONG_PASSWORD = "WRONG_PASSWORD"
    INVALID_REFRESH_TOKEN = "INVALID_REFRESH_TOKEN"
    INVALID_PHONE = "INVALID_PHONE"
    PHONE_TAKEN = "PHONE_TAKEN"
    NO_ACCOUNT = "NO_ACCOUNT"
    ALREADY_REVIEWED = "ALREADY_REVIEWED"
    CODE_INVALID = "CODE_INVALID"
    CODE_TOO_SOON = "CODE_TOO_SOON"
    TOO_MANY_CODES = "TOO_MANY_CODES"
    SMS_UNAVAILABLE = "SMS_UNAVAILABLE"
    WECHAT_NOT_CONFIGURED = "WECHAT_NOT_CONFIGURED"
    WECHAT_CODE_INVALID = "WECHAT_CODE_INVALID"
    WECHAT_RATE_LIMITED = "WECHAT_RATE_LIMITED"
    WECHAT_BUSY = "WECHAT_BUSY"
    WECHAT_REFUSED = "WECHAT_REFUSED"
    WECHAT_UNAVAILABLE = "WECHAT_UNAVAILABLE"
    WECHAT_TICKET_INVALID = "WECHAT_TICKET_INVALID"
    WECHAT_ALREADY_LINKED = "WECHAT_ALREADY_LINKED"
    # --- complaints -------------------------------------------------------------------------
    REOPEN_WINDOW_PASSED = "REOPEN_WINDOW_PASSED"
    # --- room bookings ----------------------------------------------------------------------
    OUTSIDE_OPENING_HOURS = "OUTSIDE_OPENING_HOURS"
    CLOSED = "CLOSED"
    TOO_SOON = "TOO_SOON"
    TOO_FAR_AHEAD = "TOO_FAR_AHEAD"
    TOO_LONG = "TOO_LONG"
    OVER_CAPACITY = "OVER_CAPACITY"
    NOT_ON_SLOT = "NOT_ON_SLOT"
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
    BOOKING_CONFLICT = "BOOKING_CONFLICT"
    TOO_LATE = "TOO_LATE"
    NOT_NOW = "NOT_NOW"
    # --- volunteers and grid workers' badges -------------------------------------------------
    NOT_A_VOLUNTEER = "NOT_A_VOLUNTEER"
    NOT_APPROVED = "NOT_APPROVED"
    OTHER_COMMUNITY = "OTHER_COMMUNITY"
    SKILLS_REQUIRED = "SKILLS_REQUIRED"
    SIGNUP_CLOSED = "SIGNUP_CLOSED"
    ALREADY_SIGNED_UP = "ALREADY_SIGNED_UP"
    NOT_SIGNED_UP = "NOT_SIGNED_UP"
    OVERLAPPING = "OVERLAPPING"
    TIME_CLASH = "TIME_CLASH"
    CAPACITY_BELOW_TAKEN = "CAPACITY_BELOW_TAKEN"
    INVALID_CODE = "INVALID_CODE"
    INSUFFICIENT_POINTS = "INSUFFICIENT_POINTS"
    NO_WORKER = "NO_WORKER"
    INVALID_BADGE = "INVALID_BADGE"
    # --- grid work: check-in, inspection rounds ----------------------------------------------
    ALREADY_CHECKED_IN = "ALREADY_CHECKED_IN"
    NOT_CHECKED_IN = "NOT_CHECKED_IN"
    # --- files (mutations and POST /uploads) ------------------------------------------------
    UNSUPPORTED_FILE = "UNSUPPORTED_FILE"
    FILE_TOO_LARGE = "FILE_TOO_LARGE"
    IMAGE_TOO_LARGE = "IMAGE_TOO_LARGE"
    TOO_MANY_FILES = "TOO_MANY_FILES"
    # --- the request itself (extensions.code of an operation that did not run) ---------------
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PROVIDED_SHA_DOES_NOT_MATCH = "PROVIDED_SHA_DOES_NOT_MATCH"
    OPERATION_NOT_TRUSTED = "OPERATION_NOT_TRUSTED"
    TENANT_NOT_FOUND = "TENANT_NOT_FOUND"
    RATE_LIMITED = "RATE_LIMITED"
    BAD_REQUEST = "BAD_REQUEST"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    NOT_ACCEPTABLE = "NOT_ACCEPTABLE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    # --- ours, not the caller's --------------------------------------------------------------
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"


_C = ErrorCode
DESCRIPTIONS: dict[ErrorCode, str] = {
    _C.INVALID: "输入不符合要求（长度、范围、格式），`field` 指出哪一项。",
    _C.INVALID_ID: "编号格式不对，或不是该字段要求的类型的编号。",
    _C.INVALID_CURSOR: "分页游标无效（不是本列表或本排序给出的游标）。",
    _C.NOT_FOUND: "对象不存在，或不在调用者可见的范围内（两者对外无法区分）。",
    _C.FORBIDDEN: "调用者的角色或与该对象的关系不允许此操作。",
    _C.OUT_OF_SCOPE: "输入中指定的地点或人员在本街道内，但不在调用者管辖范围内；什么也没有写入。",
    _C.INVALID_TRANSITION: "对象当前状态下不能执行此步骤（消息中写明当前状态），或该步骤自身的条件未满足。",
    _C.CONFLICT: "对象刚刚被他人修改，请刷新后重试。",
    _C.DUPLICATE: "同一项重复提交（如同一个文件附了两次）。",
    _C.NAME_TAKEN: "名称已被同一范围内的另一对象使用。",
    _C.UNAUTHENTICATED: "未登录，或登录已失效（HTTP 401），请重新登录或刷新令牌。",
    _C.TENANT_REQUIRED: "未指明街道：匿名请求须带 X-Tenant 请求头或使用街道子域名。",
    _C.INVALID_CREDENTIALS: "手机号或密码不正确。",
    _C.ACCOUNT_LOCKED: "密码错误次数过多，暂时锁定（消息中写明还需等待的分钟数）。",
    _C.ACCOUNT_DISABLED: "账户已停用。",
    _C.WRONG_PASSWORD: "修改密码时当前密码不正确。",
    _C.INVALID_REFRESH_TOKEN: "刷新令牌无效、已过期或已被使用。",
    _C.INVALID_PHONE: "不是有效的中国大陆手机号码。",
    _C.PHONE_TAKEN: "该手机号已注册。",
    _C.NO_ACCOUNT: "验证码已证明该手机号，但它还没有账户（可改为注册）。",
    _C.ALREADY_REVIEWED: "该居民的登记已审核过。",
    _C.CODE_INVALID: "短信验证码错误、过期或尝试次数用完。",
    _C.CODE_TOO_SOON: "验证码刚发送过，稍后再获取（见 retryAfterSeconds）。",
    _C.TOO_MANY_CODES: "获取验证码过于频繁。",
    _C.SMS_UNAVAILABLE: "短信暂时无法发送。",
    _C.WECHAT_NOT_CONFIGURED: "本街道尚未开通微信登录。",
    _C.WECHAT_CODE_INVALID: "wx.login 的 code 无效或已使用。",
    _C.WECHAT_RATE_LIMITED: "微信登录请求过于频繁。",
    _C.WECHAT_BUSY: "微信服务繁忙。",
    _C.WECHAT_REFUSED: "微信拒绝了该用户的登录（账号存在风险）。",
    _C.WECHAT_UNAVAILABLE: "暂时无法连接微信。",
    _C.WECHAT_TICKET_INVALID: "微信绑定凭证无效或已过期，请重新进入小程序。",
    _C.WECHAT_ALREADY_LINKED: "该微信刚刚绑定了另一个账户。",
    _C.REOPEN_WINDOW_PASSED: "诉求办结已超过街道规定的可重新办理期限。",
    _C.OUTSIDE_OPENING_HOURS: "所选时段不在活动室开放时间内。",
    _C.CLOSED: "活动室当天不开放。",
    _C.TOO_SOON: "预约未满足最少提前时间。",
    _C.TOO_FAR_AHEAD: "预约超出可预约的天数。",
    _C.TOO_LONG: "单次预约超过最长时长。",
    _C.OVER_CAPACITY: "人数超过活动室容量。",
    _C.NOT_ON_SLOT: "起止时间不在活动室的时段上。",
    _C.QUOTA_EXCEEDED: "超过每人每周的预约额度。",
    _C.BOOKING_CONFLICT: "所选时段已被预约（重复预约时消息中列出冲突的日期）。",
    _C.TOO_LATE: "预约已开始，居民不能再取消。",
    _C.NOT_NOW: "此时不能执行该步骤（如签到只在开始前 15 分钟至结束前）。",
    _C.NOT_A_VOLUNTEER: "尚未成为审核通过的志愿者，不能报名。",
    _C.NOT_APPROVED: "该志愿者尚未通过审核。",
    _C.OTHER_COMMUNITY: "该活动只面向另一个社区的志愿者。",
    _C.SKILLS_REQUIRED: "志愿者不具备活动要求的技能（消息中列出）。",
    _C.SIGNUP_CLOSED: "活动报名已截止。",
    _C.ALREADY_SIGNED_UP: "已报名该活动。",
    _C.NOT_SIGNED_UP: "没有报名该活动。",
    _C.OVERLAPPING: "与已报名的另一活动时间重叠。",
    _C.TIME_CLASH: "改期后，已报名的志愿者在新时段另有活动。",
    _C.CAPACITY_BELOW_TAKEN: "招募人数不能少于已报名人数。",
    _C.INVALID_CODE: "活动签到码无效或已过期。",
    _C.INSUFFICIENT_POINTS: "志愿积分余额不足。",
    _C.NO_WORKER: "该网格暂无网格员。",
    _C.INVALID_BADGE: "网格员工作牌二维码无效或已停用。",
    _C.ALREADY_CHECKED_IN: "已签到且尚未签退：同一时间只能有一个班次。",
    _C.NOT_CHECKED_IN: "没有未签退的班次，无需签退。",
    _C.UNSUPPORTED_FILE: "不是可接受的图片或视频，或文件已损坏（/uploads 为 HTTP 415）。",
    _C.FILE_TOO_LARGE: "文件超过大小上限（/uploads 为 HTTP 413）。",
    _C.IMAGE_TOO_LARGE: "图片像素超过上限（/uploads 为 HTTP 413）。",
    _C.TOO_MANY_FILES: "附件数量超过上限。",
    _C.GRAPHQL_PARSE_FAILED: "查询文本不是合法的 GraphQL（请求错误，操作未执行）。",
    _C.GRAPHQL_VALIDATION_FAILED: "查询不符合本 schema，或超出深度、别名限制（请求错误，操作未执行）。",
    _C.BAD_USER_INPUT: "变量与其声明的类型不符，或标量值格式不对（请求错误，操作未执行）。",
    _C.QUERY_TOO_COSTLY: "查询可能返回的对象数超过上限（extensions 中有 cost 与 limit），未执行。",
    _C.PERSISTED_QUERY_NOT_FOUND: "服务器没有该哈希的已存查询：客户端应连同查询文本再发一次。",
    _C.PROVIDED_SHA_DOES_NOT_MATCH: "persistedQuery 的哈希与随附的查询文本不符。",
    _C.OPERATION_NOT_TRUSTED: "本服务只执行已登记的操作（trusted documents），该操作未登记。",
    _C.TENANT_NOT_FOUND: "没有这个街道，或它已停用，或令牌属于另一个街道（HTTP 404）。",
    _C.RATE_LIMITED: "请求过于频繁（HTTP 429，extensions.retryAfter 与 Retry-After 给出秒数）。",
    _C.BAD_REQUEST: "请求本身无效：不是 JSON 对象、不是 UTF-8、缺少查询、上传缺少预检请求头等（HTTP 400）。",
    _C.METHOD_NOT_ALLOWED: "HTTP 方法不允许（如用 GET 执行变更），HTTP 405。",
    _C.NOT_ACCEPTABLE: "Accept 请求头无法满足（HTTP 406）。",
    _C.UNSUPPORTED_MEDIA_TYPE: "请求体类型不对：应为 application/json 或 multipart/form-data（HTTP 415）。",
    _C.PAYLOAD_TOO_LARGE: "请求体超过大小上限（HTTP 413）。",
    _C.INTERNAL_SERVER_ERROR: "服务器内部错误；extensions.requestId 是日志中查找它的编号。",
    _C.SERVICE_UNAVAILABLE: "数据库暂时不可用或连接已满（HTTP 503），请稍后重试。",
}
