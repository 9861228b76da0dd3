"""The entries of the data catalogue (政务数据目录): every table and column of the models, and every field the
exchange answers with, must appear here (tests/exchange/test_catalogue.py fails otherwise), so the published
catalogue cannot drift from what the system holds or gives out.

- PRODUCED: the bureau's own datasets, with core metadata and a data item (名称, sensitivity) per column.
- REFERENCES: copies of other departments' data: listed as references to their source, never re-offered.
- INTERNAL: operational tables (accounts, tokens, audit, queues): 不予共享, columns listed so none goes unseen.
- EXCHANGE_ITEMS: the fields of the exchange's answers (declared by the programs, flows.exchange.datasets).
"""

from __future__ import annotations

PROVIDER = {"name": "太原市民政局", "code": "11140100MB0000000X"}  # 统一社会信用代码 (placeholder format)
PUBLISHED = "2026-12-01"

# column → (数据项名称, 敏感级别)
PRODUCED: dict[str, dict] = {
    "benefits": {
        "code": "MZ-JZ-001", "name": "社会救助与福利待遇享受信息", "classification": ("部门信息资源", "民政", "社会救助", "待遇享受"),
        "class_code": "3.27.01.01", "summary": "低保、残疾人两项补贴、高龄津贴的在享待遇：项目、档次、金额、起止月份、状态。",
        "share": "有条件", "condition": "经数源接口按用途与字段白名单查询；仅答复是否享受、起始月、档次（最小必要）",
        "method": "接口（/exchange/v1/registry/sync/search）", "open": "不予开放", "cycle": "实时",
        "related": ("MZ-JZ-002", "MZ-JZ-003"),
        "items": {
            "id": ("待遇编号", "一般"), "program": ("项目代码", "一般"), "resident_id": ("居民内部编号", "敏感"),
            "application_id": ("申请编号", "一般"), "origin": ("来源（申请/主动发现）", "一般"), "tier": ("档次", "一般"),
            "monthly_amount_fen": ("月发放金额（分）", "敏感"), "start_month": ("起始月", "一般"),
            "end_month": ("终止月", "一般"), "state": ("状态", "一般"), "created_at": ("创建时间", "一般"),
            "updated_at": ("更新时间", "一般"), "legacy_paid_through": ("原渠道已发放至（月）", "一般"),
        },
    },
    "benefit_changes": {
        "code": "MZ-JZ-002", "name": "待遇变更信息", "classification": ("部门信息资源", "民政", "社会救助", "待遇变更"),
        "class_code": "3.27.01.02", "summary": "待遇停发、暂停、恢复、提档的记录及依据。",
        "share": "不予共享", "condition": "含个人待遇变更原因，仅本机关使用", "method": "—", "open": "不予开放",
        "cycle": "实时", "related": ("MZ-JZ-001",),
        "items": {
            "id": ("变更编号", "一般"), "benefit_id": ("待遇编号", "一般"), "change_key": ("变更键", "一般"),
            "kind": ("变更类型", "一般"), "effective_month": ("生效月", "一般"), "old_tier": ("原档次", "一般"),
            "old_amount_fen": ("原金额（分）", "敏感"), "tier": ("新档次", "一般"), "monthly_amount_fen": ("新金额（分）", "敏感"),
            "reason": ("原因", "敏感"), "as_of": ("判定日期", "一般"), "trace": ("判定依据", "敏感"),
            "created_at": ("创建时间", "一般"),
        },
    },
    "payroll_lines": {
        "code": "MZ-JZ-003", "name": "待遇发放明细", "classification": ("部门信息资源", "民政", "社会救助", "资金发放"),
        "class_code": "3.27.01.03", "summary": "每月发放清册明细：金额、补发、覆盖月份、收款账户（脱敏）。",
        "share": "有条件", "condition": "财政、审计部门依法监督时按批次提供", "method": "文件（发放清册）", "open": "不予开放",
        "cycle": "每月", "related": ("MZ-JZ-001",),
        "items": {
            "id": ("明细编号", "一般"), "run_id": ("清册编号", "一般"), "month": ("发放月", "一般"),
            "program": ("项目代码", "一般"), "benefit_id": ("待遇编号", "一般"), "resident_id": ("居民内部编号", "敏感"),
            "tier": ("档次", "一般"), "amount_fen": ("当月金额（分）", "敏感"), "arrears_fen": ("补发金额（分）", "敏感"),
            "covered_from": ("覆盖起始月", "一般"), "covered_to": ("覆盖终止月", "一般"), "months": ("逐月金额", "敏感"),
            "account_mask": ("收款账号（脱敏）", "敏感"), "status": ("状态", "一般"),
            "differences": ("补发差额（参数调整追溯，逐月）", "敏感"),
        },
    },
    "public_notices": {
        "code": "MZ-JZ-004", "name": "低保公示信息", "classification": ("部门信息资源", "民政", "社会救助", "公示"),
        "class_code": "3.27.01.04", "summary": "低保审核确认前的公示：街道、姓名（脱敏）、金额、公示期。",
        "share": "无条件", "condition": "", "method": "接口（/api/v1/public-notices）", "open": "依申请开放",
        "cycle": "实时", "related": ("MZ-JZ-001",),
        "items": {
            "id": ("公示编号", "一般"), "application_id": ("申请编号", "一般"), "program": ("项目代码", "一般"),
            "street_code": ("街道代码", "一般"), "masked_name": ("姓名（脱敏）", "一般"), "amount_fen": ("拟保障金额（分）", "一般"),
            "starts_on": ("公示开始日", "一般"), "ends_on": ("公示结束日", "一般"), "state": ("状态", "一般"),
            "created_at": ("创建时间", "一般"),
        },
    },
}

# Copies of other departments' data: table → (source department, its resource, columns)
REFERENCES: dict[str, tuple[str, str, str]] = {
    "residents": ("公安机关", "人口基础信息（户籍）", "id id_hash id_enc id_mask name sex birth_date household_id "
                  "relation_to_head district_code street_code community_code hukou_local phone_hash phone_enc "
                  "death_date row_hash source source_date updated_at"),
    "death_records": ("公安机关（户籍注销）；卫生健康、殡葬（佐证）", "死亡信息", "resident_id death_date source source_date "
                      "updated_at"),
    "hukou_moves": ("公安机关", "户口迁移信息", "id resident_id move_date direction area_code source source_date created_at"),
    "disability_certificates": ("残疾人联合会", "残疾人证信息", "id resident_id cert_hash cert_mask category grade issue_date "
                                "expiry_date row_hash source source_date updated_at"),
    "economic_records": ("税务、人力资源社会保障、自然资源、公安交管、市场监管、金融机构", "家庭经济状况核对信息",
                         "id resident_id kind period ref_hash ref_enc amount_fen quantity source source_date updated_at"),
    "payout_accounts": ("人力资源社会保障（社保卡）、银行", "收款账户信息", "resident_id kind bank_name number_enc number_mask "
                        "number_hash source changed_by source_date updated_at"),
}

# Operational tables: not a data resource (不予共享); every column listed.
INTERNAL: dict[str, str] = {
    "audit_events": "seq ts actor on_behalf_of action object_ref result request_id source_ip details prev_hash hash",
    "audit_head": "id seq hash prev_hash ts",
    "audit_subjects": "resident_id seq actor_kind visible_at",
    "bind_attempts": "id account_id id_hash source_ip succeeded created_at",
    "exchange_clients": "id name actions purposes per_minute per_day pia_ref agreement_ref agreement_expires contact "
                        "death_source webhook_secret_enc created_at",
    "exchange_keys": "id client_id public_key created_at revoked_at",
    "exchange_messages": "client_id message_id body_sha256 status answer created_at",
    "exchange_records": "id client_id dataset reference_id body_sha256 status reasons resident_id effect state "
                        "created_at applied_at",
    "identity_bindings": "id account_id resident_id bound_at unbound_at",
    "import_batches": "id kind file_name file_sha256 started_at finished_at counts report_path",
    "job_locks": "name owner locked_until",
    "payroll_runs": "id month state computed_at closed_at as_of inputs totals anomalies",
    "proxy_request_quotas": "key used t1 t2 t3",
    "rate_hits": "bucket window_start hits",
    "scan_runs": "id program as_of state started_at finished_at mode counts duration_ms error",
    "step_deadlines": "id application_id step started_on due_on working_days calendar_note done_on overdue",
    "subscriptions": "id account_id template_id status remaining updated_at last_error",
    "wechat_tokens": "appid access_token expires_at updated_at",
    "accounts": "id kind openid unionid resident_id bound_at created_at last_login_at disabled_at",
    "applications": "id program resident_id period origin state as_of prefill trace scan_run_id created_at updated_at "
                    "confirmed_at confirmed_by confirmed_via_grant decided_at decision declined_at decline_reason "
                    "decline_comment",
    "inbox_items": "id outbox_id resident_id account_id kind title body application_id recipient_key created_at read_at",
    "notification_prefs": "resident_id proxy_mode updated_at",
    "objections": "id notice_id account_id text state created_at",
    # 复核 (flows.appeals) and home-visit evidence (flows.home_visits): case records of this bureau, not shared
    "appeals": "id decision_key application_id benefit_id resident_id program decided_on reason_code comment filed_by "
               "filed_via grant_id state outcome decision_reason decided_by decided_at reopened_case due_on reviewer_id reminded_on "
               "urged_on escalated_on created_at updated_at",
    "home_visits": "id client_id application_id investigator_1 investigator_2 household_signer evidence checklist note "
                   "visited_at latitude longitude created_at",
    "visit_files": "id application_id kind path media_type size sha256 uploaded_by created_at",
    "counter_visits": "id resident_id staff_id office_code district_code street_code community_code source visited_on "
                      "actions created_at",
    "outbox": "id idempotency_key kind resident_id account_id application_id data state channel attempts "
              "next_attempt_at lease_until lease_owner last_error provider_msgid created_at sent_at",
    "proxy_requests": "id requester_account_id requester_resident_id target_id_hash target_resident_id name_masked "
                      "relation scopes programs grant_id messaged open_key created_at expires_at withdrawn_at",
    "staff_tasks": "id kind state resident_id application_id account_id district_code street_code community_code details "
                   "dedupe_key due_at created_at closed_at claimed_by claimed_at",
    "auth_sessions": "id account_id created_at auth_time expires_at revoked_at revoked_reason",
    "proxy_grants": "id resident_id proxy_account_id proxy_resident_id status scopes programs relation basis evidence "
                    "created_by approved_by created_at activated_at expires_at revoked_at revoked_by",
    "proxy_invitations": "id resident_id created_by_account_id token_hash scopes programs grant_days created_at expires_at "
                         "used_at used_by_account_id grant_id",
    "service_ratings": "id application_id resident_id rater_account_id level comment program application_state "
                       "follow_up_task_id created_at",
    "staff_members": "id account_id username display_name password_hash role district_code street_code community_code "
                     "resident_id id_hash id_enc id_mask failed_logins locked_until password_changed_at created_at "
                     "must_change_password",
    "refresh_tokens": "token_hash session_id issued_at used_at",
    # issue 12: area names (reference data of the civil-affairs bureau itself, `zerotrip import areas`)
    "areas": "code valid_from valid_to level name parent_code office_phone office_address",
    # issue 12 item 5 (decision letters recorded as sent, 送达)
    "letter_deliveries": "id letter_id kind resident_id method delivered_on staff_id note recorded_at",
    # on main since this branch started (issue 15 proofs, issue 17 key rotation): listed ahead of the merge
    "benefit_proofs": "id benefit_id resident_id program kid alg issued_at expires_at issued_by via",
    "key_rotations": "id to_kid state step last_key counts started_at updated_at finished_at",
    # issue 10 (maker-checker approvals, parameters as operator data)
    "approvals": "id kind subject_ref resident_id payload maker checker state created_at decided_at",
    "parameter_values": "id program key effective_month value arrears approval_id created_at",
    # issue 15 item 1 (subscriptions of the exchange)
    "exchange_callbacks": "client_id base_url updated_at",
    "exchange_subscriptions": "id client_id scope program events purpose ref expires_on created_at cancelled_at",
    "exchange_subscription_people": "id subscription_id id_hash reference_id purpose ref expires_on",
    "exchange_published": "source_key created_at",
    "exchange_cursors": "name position",
    "application_applicants": "id application_id resident_id role state created_at decided_at",
    "one_off_payments": "id program key payee_resident_id subject_resident_id application_id cause_ref amount_fen "
                        "covers_month persons details state paid_in_month created_at",
    "cremation_records": "resident_id funeral_home cremation_date arranger_resident_id arranger_name arranger_id_mask "
                         "arranger_phone_mask services waived_fen row_digest source source_date updated_at",
    "care_assessments": "id resident_id assessed_on level assessor row_digest source source_date updated_at",
    # issue 17 item 2 (monthly partitions on PostgreSQL, app/partitions.py): operational, never shared
    "unique_keys": "scope key row_id",
    "archived_partitions": "id table_name month detached_as rows dump_file dump_sha256 last_seq last_hash archived_at",
}

# Fields of the exchange's answers: field → (数据项名称, 类型, 敏感级别)
EXCHANGE_ITEMS: dict[str, tuple[str, str, str]] = {
    "receiving": ("是否享受", "布尔", "一般"),
    "since": ("起始月（YYYY-MM）", "字符", "一般"),
    "band": ("档次（年龄段）", "字符", "一般"),
}
