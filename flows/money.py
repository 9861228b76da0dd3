"""Money is kept in fen (integers) and shown as a yuan string ("50.00")."""

from decimal import Decimal, InvalidOperation


def yuan(fen: int | None) -> str | None:
    if fen is None:
        return None
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def fen(yuan_text: str) -> int:
    try:
        value = Decimal(yuan_text)
        cents = value.quantize(Decimal("0.01"))  # InvalidOperation: NaN, Infinity, beyond the precision
    except InvalidOperation:
        raise ValueError("not an amount") from None
    if value != cents:
        raise ValueError("more than two decimals")
    return int(value * 100)
