/// The states of a transactional id, with Kafka's codes (the `__transaction_state` value) and
/// names (DescribeTransactions, ListTransactions).
enum TransactionState: Int8, Sendable, CaseIterable {
    case empty = 0
    case ongoing = 1
    case prepareCommit = 2
    case prepareAbort = 3
    case completeCommit = 4
    case completeAbort = 5
    case dead = 6
    case prepareEpochFence = 7

    var name: String {
        switch self {
        case .empty: return "Empty"
        case .ongoing: return "Ongoing"
        case .prepareCommit: return "PrepareCommit"
        case .prepareAbort: return "PrepareAbort"
        case .completeCommit: return "CompleteCommit"
        case .completeAbort: return "CompleteAbort"
        case .dead: return "Dead"
        case .prepareEpochFence: return "PrepareEpochFence"
        }
    }
}
