"""A form generated from a :class:`nnsim.engine.base.Params` dataclass.

Each declared field becomes one editor (spin box, check box or list) with its label, unit, range
and the help text (the formula) as tooltip. Editing emits ``params_changed`` with a new, validated
Params object; the panel forwards it to the runner, which applies it live or resets.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QLabel,
                               QSpinBox, QVBoxLayout, QWidget)

from nnsim.engine.base import FieldInfo, ParamError, Params


def _decimals(fi: FieldInfo) -> int:
    if fi.decimals is not None:
        return fi.decimals
    lo = fi.lo if fi.lo not in (None, 0) else 1e-3
    return max(2, min(8, int(math.ceil(-math.log10(abs(lo)))) + 1)) if abs(lo) < 1 else 2


class ParamForm(QWidget):
    params_changed = Signal(object)
    invalid = Signal(str)

    def __init__(self, params: Params, parent: QWidget | None = None):
        super().__init__(parent)
        self._params = params
        self._editors: dict[str, QWidget] = {}
        self._updating = False
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        forms: dict[str, QFormLayout] = {}
        self.groups: dict[str, QGroupBox] = {}
        for fi in params.fields_info():
            if fi.hidden:
                continue
            if fi.group not in forms:
                if fi.group:
                    box = QGroupBox(fi.group)
                    self.groups[fi.group] = box
                    outer.addWidget(box)
                    forms[fi.group] = QFormLayout(box)
                else:
                    holder = QWidget()
                    outer.addWidget(holder)
                    forms[fi.group] = QFormLayout(holder)
                    forms[fi.group].setContentsMargins(0, 0, 0, 0)
                forms[fi.group].setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            layout = forms[fi.group]
            editor = self._make_editor(fi)
            tip = f"<b>{fi.label}</b>" + (f" [{fi.unit}]" if fi.unit else "")
            if fi.help:
                tip += f"<br>{fi.help}"
            tip += "<br><i>applied live</i>" if fi.live else "<br><i>changing it resets the run</i>"
            editor.setToolTip(tip)
            label = QLabel(fi.label + ("" if fi.live else " ⟲"))
            label.setToolTip(tip)
            layout.addRow(label, editor)
            self._editors[fi.name] = editor
        self.set_params(params)

    def _make_editor(self, fi: FieldInfo) -> QWidget:
        if fi.choices is not None:
            box = QComboBox()
            for value, text in fi.choices:
                box.addItem(text, value)
                box.setItemData(box.count() - 1, text, Qt.ItemDataRole.ToolTipRole)
            # a long choice must not make the form wider than a projector allows: the box may shrink
            # (the open list still shows every text whole)
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(12)
            box.view().setTextElideMode(Qt.TextElideMode.ElideNone)
            box.currentIndexChanged.connect(lambda _i, n=fi.name: self._on_edited(n))
            return box
        if fi.type is bool:
            box = QCheckBox()
            box.toggled.connect(lambda _v, n=fi.name: self._on_edited(n))
            return box
        if fi.type is int:
            box = QSpinBox()
            box.setRange(int(fi.lo if fi.lo is not None else -2**31 + 1), int(fi.hi if fi.hi is not None else 2**31 - 1))
            if fi.step:
                box.setSingleStep(int(fi.step))
        else:
            box = QDoubleSpinBox()
            box.setDecimals(_decimals(fi))
            box.setRange(fi.lo if fi.lo is not None else -1e12, fi.hi if fi.hi is not None else 1e12)
            if fi.log:
                box.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
            elif fi.step:
                box.setSingleStep(fi.step)
        if fi.unit:
            box.setSuffix(f" {fi.unit}")
        box.setKeyboardTracking(False)  # apply on Enter / focus out, not on every keystroke
        box.valueChanged.connect(lambda _v, n=fi.name: self._on_edited(n))
        return box

    def params(self) -> Params:
        return self._params

    def editor(self, name: str) -> QWidget:
        return self._editors[name]

    def set_params(self, params: Params) -> None:
        """Show ``params`` without emitting ``params_changed``."""
        self._params = params
        self._updating = True
        try:
            for name, editor in self._editors.items():
                value = getattr(params, name)
                if isinstance(editor, QComboBox):
                    editor.setCurrentIndex(max(0, editor.findData(value)))
                elif isinstance(editor, QCheckBox):
                    editor.setChecked(bool(value))
                else:
                    editor.setValue(value)
        finally:
            self._updating = False

    def _value(self, name: str):
        editor = self._editors[name]
        if isinstance(editor, QComboBox):
            return editor.currentData()
        if isinstance(editor, QCheckBox):
            return editor.isChecked()
        return editor.value()

    def _on_edited(self, name: str):
        if self._updating:
            return
        try:
            new = self._params.replace(**{name: self._value(name)})
        except ParamError as exc:
            self.invalid.emit(str(exc))
            self.set_params(self._params)
            return
        if new != self._params:
            self._params = new
            self.params_changed.emit(new)
