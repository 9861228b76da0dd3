"""The data exchange (数源接口, issue 14): partner clients and keys, signed requests, data in by push, answers
out by purpose, and the data catalogue (政务数据目录). See docs/exchange.md."""
