"""The community service fund: a ledger of money released and spent, and of the concessions granted.

Departments release money into it, earmarked by service type; every public
payment (subsidies, vouchers, contracts, government-run deficits, capital,
coordination) is drawn from the earmark of its type. When claims exceed the
balance they are paid pro rata, which is how an unreliable release reaches
operators (seed 001: the canteen that fails when the subsidy shrinks).
Unspent money lapses at the end of each fiscal year except a carried-over
share (``government.budget_carryover``), so what is reported as spending is what
was paid. Invariant, tested: released = spent + lapsed + balance.

Concessions are public costs that no money pays: rent forgone on premises lent
rent-free, tax revenue forgone through tax relief. They do not draw on the fund
(another budget bears them) but the ledger records them at their value
(:meth:`PublicFund.forgo`), so public spending counts every cost of a policy,
not only its cash (DESIGN.md §6; docs/ODD.md §7.12).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

# What public money is spent on; every payment names one (outcomes report each: cost.public_spending.<category>).
SPENDING_CATEGORIES: tuple[str, ...] = (
    "contracts_and_vouchers",  # residents' vouchers and contracted operators' deficits (paid first)
    "services",  # deficits of government-run windows (the street office's own services)
    "subsidies",  # per-visit subsidies to market providers
    "capital",  # building new public facilities
    "coordination",  # the leading group's running cost
    "interest_binding",  # outcome-linked pay to operators with a stake
    "soe_deficit",  # loss cover of state-owned firms in thin markets
)
# Public costs without a payment, valued at what the public side gives up (docs/ODD.md §7.12).
CONCESSION_CATEGORIES: tuple[str, ...] = (
    "rent_forgone",  # market rent of public premises lent rent-free to market operators (profit_space.rent_free_space)
    "tax_forgone",  # profit tax not collected because of tax relief (profit_space.tax_relief)
)
SPENDING_LABELS: dict[str, str] = {
    "rent_forgone": "Rent forgone (rent-free space)", "tax_forgone": "Tax forgone (tax relief)",
    "contracts_and_vouchers": "Contracts and vouchers", "services": "Government-run windows", "capital": "Buildings",
    "coordination": "Coordination", "interest_binding": "Interest-binding", "soe_deficit": "State-owned deficits",
    "subsidies": "Per-visit subsidies",
}


class PublicFund:
    """Balances per service type with a cumulative and per-step record."""

    def __init__(self, n_services: int):
        self.balance = np.zeros(n_services)
        self.released_total = 0.0
        self.spent_total = 0.0
        self.lapsed_total = 0.0
        self.step_released = 0.0
        self.step_released_by_service = np.zeros(n_services)  # this month's inflow per earmark
        self.step_lapsed = 0.0
        self.step_spent: dict[str, float] = defaultdict(float)
        self.forgone_total = 0.0
        self.step_forgone: dict[str, float] = defaultdict(float)

    def new_step(self) -> None:
        self.step_released = 0.0
        self.step_released_by_service = np.zeros_like(self.balance)
        self.step_lapsed = 0.0
        self.step_spent = defaultdict(float)
        self.step_forgone = defaultdict(float)

    def forgo(self, category: str, amount: float) -> None:
        """Record a concession at its value: a public cost that draws nothing from the fund."""
        if category not in CONCESSION_CATEGORIES:
            raise ValueError(f"unknown concession category {category!r}")
        self.forgone_total += amount
        self.step_forgone[category] += amount

    def release(self, services: list[int], amounts: np.ndarray) -> None:
        """Add released money to the earmarks of ``services``."""
        amounts = np.asarray(amounts, dtype=float)
        np.add.at(self.balance, services, amounts)
        np.add.at(self.step_released_by_service, services, amounts)
        total = float(amounts.sum())
        self.released_total += total
        self.step_released += total

    def can_pay(self, service: int, amount: float) -> bool:
        return self.balance[service] >= amount

    def pay_by_service(self, claims: np.ndarray, category: str) -> np.ndarray:
        """Pay claims (one total per service earmark); returns the fraction paid per earmark.

        An earmark that cannot cover its claims pays them pro rata.
        """
        claims = np.asarray(claims, dtype=float)
        fraction = np.minimum(1.0, np.divide(self.balance, claims, out=np.ones_like(claims), where=claims > 0))
        paid = claims * fraction
        self.balance -= paid
        self._empty_short(fraction)
        self._record(category, float(paid.sum()))
        return fraction

    def pay_together(self, claims: dict[str, np.ndarray]) -> np.ndarray:
        """Pay several categories of claims of equal standing: pro rata together, each recorded as its own."""
        total = sum(claims.values())
        fraction = np.minimum(1.0, np.divide(self.balance, total, out=np.ones_like(total), where=total > 0))
        for category, amounts in claims.items():
            paid = amounts * fraction
            self.balance -= paid
            self._record(category, float(paid.sum()))
        self._empty_short(fraction)
        return fraction

    def _empty_short(self, fraction: np.ndarray) -> None:
        """An earmark that paid pro rata is empty: exactly 0, not the ±1e-12 yuan that balance − claims ·
        (balance / claims) leaves in floating point, whose sign differs between CPUs and would decide
        whether the fund "still has money" (a project affordable, ``can_pay``; docs/ODD.md §8, item 31)."""
        self.balance[fraction < 1.0] = 0.0

    def spend_pro_rata(self, amount: float, category: str) -> float:
        """Spend across all earmarks in proportion to their balances."""
        available = float(self.balance.sum())
        paid = min(amount, available)
        if paid > 0:
            self.balance *= 1.0 - paid / available
        self._record(category, paid)
        return paid

    def lapse(self, kept_share: float) -> None:
        """Fiscal year end: the finance bureau recovers the unspent balance but ``kept_share`` of it."""
        lapsed = self.balance * (1.0 - kept_share)
        self.balance -= lapsed
        self.step_lapsed += float(lapsed.sum())
        self.lapsed_total += float(lapsed.sum())

    def _record(self, category: str, paid: float) -> None:
        if category not in SPENDING_CATEGORIES:
            raise ValueError(f"unknown spending category {category!r}")
        self.spent_total += paid
        self.step_spent[category] += paid
