"""Rows and named expressions as flat linear sums over the variables.

Written with operators, ``sum(c[k] * m.units[k] for k in ...)`` grows a Pyomo
expression one term at a time, and a row that refers to named Expressions
(``available``, ``ordered``, ...) makes the standard-form compiler walk each of
them again for every row that uses it.  Both costs grow with the number of
terms and of rows that share an expression, so on a large campaign they make up
most of the model build and of the hand-off to HiGHS.

:func:`combine` builds ``constant + Σ factor·part`` as *one*
``LinearExpression`` of monomials ``coef·var`` directly over the variables, each
part a variable or a linear expression (or a named Expression holding one) whose
terms are scaled by the factor.  The compiler reads such a body in one pass.
The maths is unchanged: the coefficient of a variable is the product of the
factors on its way down, as the compiler would have computed it.
"""

from __future__ import annotations

from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

_NATIVE = (int, float)


def linear(coefs, variables, constant: float = 0.0) -> LinearExpression:
    """``constant + Σ coefs[i]·variables[i]``."""
    args = [MonomialTermExpression(t) for t in zip(coefs, variables)]
    if constant:
        args.insert(0, float(constant))
    return LinearExpression(args)


def combine(*parts, constant: float = 0.0) -> LinearExpression:
    """``constant + Σ factor·part`` for ``(factor, part)`` pairs.

    A part is a variable, a ``LinearExpression`` or a named Expression whose
    expression is one (as built by :func:`linear` / :func:`combine`).
    """
    args = []
    for factor, part in parts:
        if part.is_variable_type():
            args.append(MonomialTermExpression((factor, part)))
            continue
        expr = part.expr if part.is_named_expression_type() else part
        for arg in expr.args:
            if arg.__class__ is MonomialTermExpression:
                coef, var = arg._args_
                args.append(MonomialTermExpression((factor * coef, var)))
            elif arg.__class__ in _NATIVE:
                constant += factor * arg
            elif arg.is_variable_type():
                args.append(MonomialTermExpression((factor, arg)))
            else:
                raise TypeError(f"not a flat linear term: {arg!r}")
    if constant:
        args.insert(0, float(constant))
    return LinearExpression(args)
