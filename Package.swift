// swift-tools-version:6.0
import PackageDescription

/// Release builds skip the run-time exclusivity checks in the hot codec, log and client paths
/// (about 8% of the producer's CPU per record); debug builds, and so the tests, keep them.
let releaseExclusivity: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

/// `STRAIT_FUZZ=1` (set by `Tests/fuzz.sh`): Strait's own modules built with libFuzzer's coverage
/// instrumentation and `FUZZING` defined, for `--product strait-fuzz` only. The dependencies are
/// left as they are: they are not what is fuzzed, and rebuilding them would cost minutes.
let fuzzing = Context.environment["STRAIT_FUZZ"] == "1"
let fuzzed: [SwiftSetting] = fuzzing ? [.unsafeFlags(["-sanitize=fuzzer"]), .define("FUZZING")] : []

let package = Package(
    name: "Strait",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "strait", targets: ["StraitCLI"]),
        .executable(name: "strait-bench", targets: ["StraitBenchmarks"]),
        .executable(name: "strait-fuzz", targets: ["StraitFuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
    ],
    targets: [
        // C helpers below the codec: the CRC32C instruction and run-time binding of the
        // lz4/zstd/snappy shared libraries (see docs/compression.md for why they are loaded lazily).
        .target(
            name: "CKafkaShims",
            linkerSettings: [.linkedLibrary("z"), .linkedLibrary("dl")]
        ),
        .target(
            name: "KafkaProtocol",
            dependencies: [
                "CKafkaShims",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            exclude: ["Schema"],
            swiftSettings: releaseExclusivity + fuzzed
        ),
        // Kafka's security vocabulary shared by the broker and the client: SASL mechanisms (PLAIN,
        // SCRAM), JAAS text, Java properties, config providers and TLS settings from `ssl.*` keys.
        .target(
            name: "KafkaSecurity",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
            ],
            swiftSettings: fuzzed
        ),
        .target(
            name: "LogStore",
            dependencies: [
                "KafkaProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: fuzzed
        ),
        .target(
            name: "Broker",
            dependencies: [
                "KafkaProtocol",
                "KafkaSecurity",
                "LogStore",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: fuzzed
        ),
        .target(
            name: "KafkaClient",
            dependencies: [
                "KafkaProtocol",
                "KafkaSecurity",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: releaseExclusivity + fuzzed
        ),
        .target(
            name: "Mirror",
            dependencies: [
                "KafkaClient",
                "KafkaSecurity",
                "KafkaProtocol",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "StraitDaemon",
            dependencies: [
                "Broker",
                "Mirror",
                "KafkaClient",
                "KafkaProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        .executableTarget(
            name: "StraitCLI",
            dependencies: [
                "Mirror",
                "KafkaSecurity",
                "StraitDaemon",
                "KafkaProtocol",
                "KafkaClient",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // `swift run -c release strait-bench`: codec benchmarks recorded in docs/benchmarks.md.
        .executableTarget(
            name: "StraitBenchmarks",
            dependencies: ["KafkaProtocol", "CKafkaShims", .product(name: "NIOCore", package: "swift-nio")]
        ),
        // The coverage-guided fuzzer's targets (`Tests/fuzz.sh`; docs/fuzzing.md): the broker's
        // request path in process, and record batches through the broker's and the consumer's
        // decoders. `strait-fuzz` is their libFuzzer entry point, or a replayer without FUZZING.
        .target(
            name: "FuzzTargets",
            dependencies: [
                "Broker", "KafkaClient", "KafkaProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: fuzzed
        ),
        // libFuzzer's driver, declared for `strait-fuzz` (present only in fuzzing builds).
        .target(name: "CLibFuzzer"),
        .executableTarget(
            name: "StraitFuzz",
            dependencies: ["FuzzTargets", "CLibFuzzer"],
            swiftSettings: fuzzed,
            linkerSettings: fuzzing ? [.unsafeFlags(["-sanitize=fuzzer", "-use-ld=lld"])] : []
        ),
        .testTarget(name: "FuzzTargetTests", dependencies: ["FuzzTargets"]),
        .testTarget(
            name: "KafkaProtocolTests",
            dependencies: ["KafkaProtocol", .product(name: "NIOCore", package: "swift-nio")],
            exclude: ["Oracle", "Vectors"]
        ),
        .testTarget(
            name: "LogStoreTests",
            dependencies: ["LogStore", "KafkaProtocol", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(name: "StraitDaemonTests", dependencies: ["StraitDaemon"]),
        .testTarget(name: "KafkaSecurityTests", dependencies: ["KafkaSecurity"]),
        .testTarget(
            name: "MirrorTests",
            dependencies: ["Mirror", "KafkaSecurity", "KafkaProtocol", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(
            name: "KafkaClientTests",
            dependencies: ["KafkaClient", "KafkaProtocol", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(
            name: "BrokerTests",
            dependencies: [
                "Broker", "LogStore", "KafkaProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
