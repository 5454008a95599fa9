import Foundation
import KafkaProtocol
import NIOCore

/// Renders a decoded message in the canonical JSON form `Oracle/oracle.py` compares with
/// kafka-python's decoding: lowerCamelCase keys, bytes and records as lowercase hex, UUIDs as 32
/// hex digits, nulls as null. It walks the generated structs by reflection so the test does not
/// depend on the code it checks.
enum CanonicalForm {
    static func render(_ value: Any) -> Any {
        if let buffer = value as? ByteBuffer { return hex(buffer) }
        if let uuid = value as? KafkaUUID {
            return String(format: "%016llx%016llx", uuid.mostSignificantBits, uuid.leastSignificantBits)
        }
        switch value {
        case let v as Int8: return Int(v)
        case let v as Int16: return Int(v)
        case let v as Int32: return Int(v)
        case let v as Int64: return NSNumber(value: v)
        case let v as UInt16: return Int(v)
        case let v as Bool: return v
        case let v as Double: return v
        case let v as String: return v
        default: break
        }
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .optional:
            guard let wrapped = mirror.children.first?.value else { return NSNull() }
            return render(wrapped)
        case .collection:
            return mirror.children.map { render($0.value) }
        case .struct:
            var object: [String: Any] = [:]
            for child in mirror.children {
                guard let label = child.label, label != "unknownTaggedFields" else { continue }
                object[label] = render(child.value)
            }
            return object
        default:
            return "\(value)"
        }
    }

    static func hex(_ buffer: ByteBuffer) -> String {
        buffer.readableBytesView.map { String(format: "%02x", $0) }.joined()
    }

    static func bytes(fromHex hex: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            buffer.writeInteger(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return buffer
    }
}
