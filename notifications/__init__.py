"""Notifications: the outbox, the dispatcher, channels (WeChat subscribe messages, SMS, in-app inbox)."""
