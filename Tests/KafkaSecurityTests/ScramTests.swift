@testable import KafkaSecurity
import XCTest

final class ScramTests: XCTestCase {
    /// RFC 7677 section 3: SCRAM-SHA-256 for user "user", password "pencil".
    func testTheClientReproducesRFC7677() throws {
        var client = ScramClientExchange(mechanism: .sha256, user: "user", password: "pencil", nonce: "rOprNGfwEbeRWgbNEkqO")
        XCTAssertEqual(String(decoding: client.firstMessage(), as: UTF8.self), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
        let serverFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
        let final = try client.finalMessage(answering: Array(serverFirst.utf8))
        XCTAssertEqual(String(decoding: final, as: UTF8.self),
                       "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
        XCTAssertNoThrow(try client.verify(serverFinal: Array("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=".utf8)))
        XCTAssertThrowsError(try client.verify(serverFinal: Array("v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=".utf8)))
    }

    func testServerAndClientAgreeAndAWrongPasswordOrUnknownUserFailAlike() throws {
        for mechanism in ScramMechanism.allCases {
            let stored = try mechanism.credential(password: "right", salt: Array("saltsaltsalt".utf8), iterations: 4096)
            func login(user: String, password: String) -> ScramServerExchange.Step {
                var server = ScramServerExchange(mechanism: mechanism) { $0 == "alice" ? stored : nil }
                var client = ScramClientExchange(mechanism: mechanism, user: user, password: password)
                guard case .challenge(let challenge) = server.evaluate(client.firstMessage()),
                      let proof = try? client.finalMessage(answering: challenge) else { return .failed("no challenge") }
                let step = server.evaluate(proof)
                if case .authenticated(_, let final) = step { XCTAssertNoThrow(try client.verify(serverFinal: final)) }
                return step
            }
            guard case .authenticated(let user, _) = login(user: "alice", password: "right") else { return XCTFail("\(mechanism) login failed") }
            XCTAssertEqual(user, "alice")
            let expected = ScramServerExchange.Step.failed("Authentication failed during authentication due to invalid credentials with SASL mechanism \(mechanism.rawValue)")
            XCTAssertEqual(login(user: "alice", password: "wrong"), expected)
            XCTAssertEqual(login(user: "mallory", password: "right"), expected)
        }
    }

    func testUserNamesAreEscaped() {
        XCTAssertEqual(ScramMessage.escape("a,b=c"), "a=2Cb=3Dc")
        XCTAssertEqual(ScramMessage.unescape("a=2Cb=3Dc"), "a,b=c")
        XCTAssertNil(ScramMessage.unescape("a=2Xb"))
    }

    func testPlainTokens() {
        XCTAssertEqual(SaslPlain(token: Array("\0carol\0pw".utf8)), SaslPlain(user: "carol", password: "pw"))
        XCTAssertNil(SaslPlain(token: Array("carol\0pw".utf8)))
        XCTAssertNil(SaslPlain(token: Array("\0\0pw".utf8)))
    }

    func testJaasConfigOptionsAndErrorsWithoutValues() throws {
        let jaas = try JaasConfig(parsing: #"org.apache.kafka.common.security.plain.PlainLoginModule required username="a b" password="p\"w;" user_x=y;"#)
        XCTAssertEqual(jaas.loginModule, "org.apache.kafka.common.security.plain.PlainLoginModule")
        XCTAssertEqual(jaas.options, ["username": "a b", "password": "p\"w;", "user_x": "y"])
        XCTAssertThrowsError(try JaasConfig(parsing: #"Module required password="secret-value"#)) { error in
            XCTAssertFalse("\(error)".contains("secret-value"))
        }
        XCTAssertThrowsError(try JaasConfig(parsing: "Module maybe;"))
    }

    func testConfigProvidersResolveFilesAndEnvironment() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("strait-secrets-\(UUID().uuidString)").path
        try "pw = from-file\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let providers = try ConfigProviders(declarations: ["config.providers": "vault",
                                                           "config.providers.vault.class": "org.apache.kafka.common.config.provider.FileConfigProvider"],
                                            environment: ["PW": "from-env"])
        XCTAssertEqual(try providers.resolve("a ${file:\(path):pw} b ${env:PW} ${vault:\(path):pw}", key: "k"), "a from-file b from-env from-file")
        XCTAssertThrowsError(try providers.resolve("${env:NOPE}", key: "k")) { XCTAssertEqual("\($0)", "k: ${env:NOPE}: the environment variable NOPE is not set") }
        XCTAssertThrowsError(try providers.resolve("${nope:x}", key: "k"))
        XCTAssertThrowsError(try ConfigProviders(declarations: ["config.providers": "x", "config.providers.x.class": "com.example.Vault"]))
    }
}
