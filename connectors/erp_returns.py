"""Kingdee K3 Cloud for after-sales: serials shipped, serial-managed materials and the
sales return bills (`SAL_RETURNSTOCK`), over `ErpConnector`'s login and paged query.

- Serials: SAL_OUTSTOCK's serial sub-entity (``FSerialNo``) gives one row per serial of a
  serial-managed line; the sales order number (``FSoorDerno``) is orderhub's order ref.
- Serial-managed materials: BD_MATERIAL's ``FIsSNManage``.
- Return bills (PLATFORMS.md "Kingdee SAL_RETURNSTOCK"), a row per line: ``FBillNo,
  FDocumentStatus`` (C audited), ``FApproveDate``, ``FMaterialId.FNumber``, ``FRealQty``,
  ``FStockId.FNumber``, ``FStockstatusId.FNumber`` (KCZT01_SYS available, KCZT02_SYS
  awaiting inspection), ``FSrcBillNo`` (the original order ref) and the tenant's custom
  field for the platform's after-sales id (``F_ORDERHUB_ASID``, ``channel:aftersale_id``).
"""

from __future__ import annotations

from typing import Any

from connectors.erp import ErpConnector

SERIAL_FIELDS = "FBillNo,FSoorDerno,FSrcBillNo,FMaterialID.FNumber,FSerialNo"
MATERIAL_SN_FIELDS = "FNumber,FIsSNManage"
RETURN_FIELDS = (
    "FBillNo,FApproveDate,FMaterialId.FNumber,FRealQty,FStockId.FNumber,"
    "FStockstatusId.FNumber,FSrcBillNo,F_ORDERHUB_ASID,FSerialNo"
)
APPROVED = "FDocumentStatus = 'C'"


class ErpReturns(ErpConnector):
    """Reads what after-sales needs from the ERP."""

    async def shipped_serials(self) -> list[dict[str, Any]]:
        """``{bill_no, order_ref, sku, serial}`` per serial packed in an approved outbound
        bill."""
        rows = await self._query("SAL_OUTSTOCK", SERIAL_FIELDS, APPROVED, "FBillNo ASC")
        return [
            {"bill_no": str(r[0]), "order_ref": str(r[1] or r[2] or ""), "sku": str(r[3]),
             "serial": str(r[4])}
            for r in rows
            if r[4]
        ]  # fmt: skip

    async def serial_skus(self) -> list[str]:
        """The materials managed by serial number."""
        rows = await self._query("BD_MATERIAL", MATERIAL_SN_FIELDS)
        return sorted(str(r[0]) for r in rows if r[1] in (True, 1, "1", "true", "True"))

    async def return_bills(self) -> list[dict[str, Any]]:
        """Every approved sales return bill line."""
        rows = await self._query("SAL_RETURNSTOCK", RETURN_FIELDS, APPROVED, "FBillNo ASC")
        return [
            {"bill_no": str(r[0]), "approved_at": str(r[1]), "sku": str(r[2]),
             "qty": round(float(r[3])), "warehouse": str(r[4]), "stock_status": str(r[5]),
             "order_ref": str(r[6]), "aftersale_ref": str(r[7]),
             "serials": [s for s in str(r[8] or "").split(",") if s]}
            for r in rows
        ]  # fmt: skip
