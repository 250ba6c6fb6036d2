/**
 * CEB retail-import documents (海关跨境电子商务进口统一版), element names verbatim from the message spec
 * (reference-data/ceb/ceb_import_fields.csv; `acturalPaid` sic). Values are the element texts: amounts are
 * decimal strings (N19,2 / N19,5), never floats. Optional elements are `?`.
 */

/** CEB311Message Order/OrderHead */
export interface OrderHead {
  /** 系统唯一序号 C36 */
  guid: string
  /** 报送类型 C1 */
  appType: string
  /** 报送时间 C14 */
  appTime: string
  /** 业务状态 C..3 */
  appStatus: string
  /** 订单类型 C1 */
  orderType: string
  /** 订单编号 C..60 */
  orderNo: string
  /** 电商平台代码 C..18 */
  ebpCode: string
  /** 电商平台名称 C..100 */
  ebpName: string
  /** 电商企业代码 C..18 */
  ebcCode: string
  /** 电商企业名称 C..100 */
  ebcName: string
  /** 商品价格 N19,2 (some versions N16,2) */
  goodsValue: string
  /** 运杂费 N19,2 */
  freight: string
  /** 非现金抵扣金额 N19,2 */
  discount: string
  /** 代扣税款 N19,2 */
  taxTotal: string
  /** 实际支付金额 N19,2 */
  acturalPaid: string
  /** 币制 C3 */
  currency: string
  /** 订购人注册号 C..60 */
  buyerRegNo: string
  /** 订购人姓名 C..60 */
  buyerName: string
  /** 订购人电话 C..30 */
  buyerTelephone: string
  /** 订购人证件类型 C1 */
  buyerIdType: string
  /** 订购人证件号码 C..60 */
  buyerIdNumber: string
  /** 支付企业代码 C..18 */
  payCode?: string
  /** 支付企业名称 C..100 */
  payName?: string
  /** 支付交易编号 C..60 */
  payTransactionId?: string
  /** 商品批次号 C..100 */
  batchNumbers?: string
  /** 收货人姓名 C..100 */
  consignee: string
  /** 收货人电话 C..50 */
  consigneeTelephone: string
  /** 收货地址 C..200 */
  consigneeAddress: string
  /** 收货地址行政区划代码 C6 */
  consigneeDistrict?: string
  /** 备注 C..1000 */
  note?: string
}

/** CEB311Message Order/OrderList */
export interface OrderList {
  /** 商品序号 N4? */
  gnum: string
  /** 企业商品货号 C..20? */
  itemNo?: string
  /** 企业商品名称 C..250? */
  itemName: string
  /** 商品规格型号 C..250? */
  gmodel: string
  /** 企业商品描述 C..1000? */
  itemDescribe?: string
  /** 条形码 C..50? */
  barCode?: string
  /** 单位 C3 */
  unit: string
  /** 数量 N19,5? */
  qty: string
  /** 单价 N19,5? */
  price: string
  /** 总价 N19,5? */
  totalPrice: string
  /** 币制 C3 */
  currency: string
  /** 原产国 C3 */
  country: string
  /** 备注 C..1000? */
  note?: string
}

/** CEB411Message Payment/PaymentHead */
export interface PaymentHead {
  /** 系统唯一序号 C36 */
  guid: string
  /** 报送类型 C1 */
  appType: string
  /** 报送时间 C14 */
  appTime: string
  /** 业务状态 C..3 */
  appStatus: string
  /** 支付企业代码 C..18? */
  payCode: string
  /** 支付企业名称 C..100? */
  payName: string
  /** 支付交易编号 C..60? */
  payTransactionId: string
  /** 订单编号 C..60? */
  orderNo: string
  /** 电商平台代码 C..18? */
  ebpCode: string
  /** 电商平台名称 C..100? */
  ebpName: string
  /** 支付人证件类型 C1 */
  payerIdType: string
  /** 支付人证件号码 C..60? */
  payerIdNumber: string
  /** 支付人姓名 C..60? */
  payerName: string
  /** 支付人电话 C..50? */
  telephone?: string
  /** 支付金额 N19,2? */
  amountPaid: string
  /** 支付币制 C3 */
  currency: string
  /** 支付时间 C14 */
  payTime: string
  /** 备注 C..1000? */
  note?: string
}

/** CEB511Message Logistics/LogisticsHead */
export interface LogisticsHead {
  /** 系统唯一序号 C36 */
  guid: string
  /** 报送类型 C1 */
  appType: string
  /** 报送时间 C14 */
  appTime: string
  /** 业务状态 C..3 */
  appStatus: string
  /** 物流企业代码 C..18 */
  logisticsCode: string
  /** 物流企业名称 C..100 */
  logisticsName: string
  /** 物流运单编号 C..60 */
  logisticsNo: string
  /** 提运单号 C..37 */
  billNo?: string
  /** 订单编号 C..60 */
  orderNo: string
  /** 运费 N19,5 */
  freight?: string
  /** 保价费 N19,5 */
  insuredFee?: string
  /** 币制 C3 */
  currency: string
  /** 毛重 N19,5 */
  weight: string
  /** 件数 N9 */
  packNo?: string
  /** 主要货物信息 C..200 */
  goodsInfo?: string
  /** 收货人姓名 C..100 */
  consignee: string
  /** 收货地址 C..200 */
  consigneeAddress: string
  /** 收货人电话 C..50 */
  consigneeTelephone: string
  /** 备注 C..1000 */
  note?: string
}

/** CEB621Message Inventory/InventoryHead */
export interface InventoryHead {
  /** 系统唯一序号 C36 */
  guid: string
  /** 报送类型 C1 */
  appType: string
  /** 报送时间 C14 */
  appTime: string
  /** 业务状态 C..3 */
  appStatus: string
  /** 订单编号 C..60? */
  orderNo: string
  /** 电商平台代码 C..18? */
  ebpCode: string
  /** 电商平台名称 C..100? */
  ebpName: string
  /** 电商企业代码 C..18? */
  ebcCode: string
  /** 电商企业名称 C..100? */
  ebcName: string
  /** 物流运单编号 C..60? */
  logisticsNo: string
  /** 物流企业代码 C..18? */
  logisticsCode: string
  /** 物流企业名称 C..100? */
  logisticsName: string
  /** 企业内部编号 C..20 */
  copNo: string
  /** 预录入编号 C18? */
  preNo?: string
  /** 担保企业编号 C..30 */
  assureCode: string
  /** 账册编号 C..30? */
  emsNo?: string
  /** 清单编号 C18? */
  invtNo?: string
  /** 进出口标记 C1 */
  ieFlag: string
  /** 申报日期 C8? */
  declTime: string
  /** 申报海关代码 C4? */
  customsCode: string
  /** 口岸海关代码 C4? */
  portCode: string
  /** 进口日期 C8? */
  ieDate?: string
  /** 订购人证件类型 C1 */
  buyerIdType: string
  /** 订购人证件号码 C..60? */
  buyerIdNumber: string
  /** 订购人姓名 C..60? */
  buyerName: string
  /** 订购人电话 C..30? */
  buyerTelephone: string
  /** 收件地址 C..200? */
  consigneeAddress: string
  /** 申报企业代码 C..18? */
  agentCode: string
  /** 申报企业名称 C..100? */
  agentName: string
  /** 区内企业代码 C..18? */
  areaCode?: string
  /** 区内企业名称 C..100? */
  areaName?: string
  /** 贸易方式 C4? */
  tradeMode: string
  /** 运输方式 C1? */
  trafMode: string
  /** 运输工具编号 C..100? */
  trafNo?: string
  /** 航班航次号 C..32? */
  voyageNo?: string
  /** 提运单号 C..37? */
  billNo?: string
  /** 监管场所代码 C..10? */
  loctNo?: string
  /** 许可证件号 C..19? */
  licenseNo?: string
  /** 起运国（地区） C3? */
  country: string
  /** 运费 N19,5? */
  freight: string
  /** 保费 N19,5? */
  insuredFee: string
  /** 币制 C3 */
  currency: string
  /** 包装种类代码 C1? */
  wrapType?: string
  /** 件数 N9? */
  packNo: string
  /** 毛重（公斤） N19,5? */
  grossWeight: string
  /** 净重（公斤） N19,5? */
  netWeight: string
  /** 备注 C..1000? */
  note?: string
}

/** CEB621Message Inventory/InventoryList */
export interface InventoryList {
  /** 序号 N4 */
  gnum: string
  /** 账册备案料号 C..30 */
  itemRecordNo?: string
  /** 企业商品货号 C..20 */
  itemNo?: string
  /** 企业商品品名 C..250 */
  itemName?: string
  /** 商品编码 C10 */
  gcode: string
  /** 商品名称 C..250 */
  gname: string
  /** 商品规格型号 C..250 */
  gmodel: string
  /** 条码 C..50 */
  barCode?: string
  /** 原产国（地区） C3 */
  country: string
  /** 贸易国 C3? */
  tradeCountry?: string
  /** 币制 C3 */
  currency: string
  /** 数量 N19,4 (per one impl.)? */
  qty: string
  /** 计量单位 C3 */
  unit: string
  /** 法定数量 N19,4 (per one impl.)? */
  qty1: string
  /** 法定计量单位 C3 */
  unit1: string
  /** 第二数量 N19,4 (per one impl.)? */
  qty2?: string
  /** 第二计量单位 C3 */
  unit2?: string
  /** 单价 N19,2 (per one impl.)? */
  price: string
  /** 总价 N19,2 (per one impl.)? */
  totalPrice: string
  /** 备注 C..1000? */
  note?: string
}

export interface Order {
  head: OrderHead
  lines: OrderList[]
}
export interface Payment {
  head: PaymentHead
}
export interface Waybill {
  head: LogisticsHead
}
export interface Inventory {
  head: InventoryHead
  lines: InventoryList[]
}

/** The message types this channel takes in, and the documents each carries. */
export type CebMessageType = 'CEB311' | 'CEB411' | 'CEB511' | 'CEB621'
export interface CebDocuments {
  CEB311: Order
  CEB411: Payment
  CEB511: Waybill
  CEB621: Inventory
}

/** `BaseTransfer`: who sends the message. */
export interface BaseTransfer {
  copCode: string
  copName?: string
  dxpMode: string
  dxpId: string
  note?: string
}

/** A parsed message: its type, guid, sender and one or more documents (heads). */
export interface CebMessage<T extends CebMessageType = CebMessageType> {
  type: T
  guid: string
  version: string
  documents: Array<CebDocuments[T]>
  baseTransfer: BaseTransfer
}

/** A format or content problem with a JSON Pointer into the message (CEB900-style). */
export interface CebProblem {
  code: string
  message: string
  pointer: string
}

/** One receipt line, as CEB312/412/512/622 carry it. */
export interface Receipt {
  type: CebMessageType
  docKey: string
  orderNo: string
  returnStatus: number
  returnInfo: string
  reasons: CebProblem[]
  /** Version of the stored document this answers; absent when the document was refused at intake. */
  docVersion?: number
}

// ---- tickets as the console reads them (tickets.ts; the web console imports these types) ----

/** A ticket as the list shows it. */
export interface TicketSummary {
  orderNo: string
  returnStatus: number
  reasons: CebProblem[]
  complete: boolean
  /** Document types present on the ticket (joined, not deleted). */
  present: CebMessageType[]
  lane: string | null
  createdAt: string
  updatedAt: string
  verdictAt: string | null
  releasedAt: string | null
}

/** One document of a ticket: what was received, and its key fields where the viewer may see them. */
export interface TicketDocument {
  type: CebMessageType
  docKey: string
  version: number
  deleted: boolean
  /**
   * joined: counts on the ticket (a deleted one: did, until deleted); held: waits for the document naming its sender;
   * refused: the party rules refused it.
   */
  standing: 'joined' | 'held' | 'refused'
  /** The sending enterprise's customs code, null as `fields`. */
  sender: string | null
  receivedAt: string
  updatedAt: string
  /** The head's key fields (CEB element names), null where the viewer is no party of this document. */
  fields: Record<string, string> | null
  /** The goods lines' key fields (orders and inventories), null as `fields`. */
  lines: Array<Record<string, string>> | null
}

export interface TicketDetail extends TicketSummary {
  taxTotal: string | null
  dutiableValue: string | null
  documents: TicketDocument[]
}
