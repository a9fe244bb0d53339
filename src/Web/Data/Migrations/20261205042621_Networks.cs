using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Platform.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class Networks : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterColumn<string>(
                name: "TapName",
                table: "VmNics",
                type: "TEXT",
                maxLength: 15,
                nullable: true,
                oldClrType: typeof(string),
                oldType: "TEXT",
                oldMaxLength: 15);

            migrationBuilder.AddColumn<Guid>(
                name: "NetworkId",
                table: "VmNics",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "PortForwards",
                table: "VmNics",
                type: "TEXT",
                nullable: true);

            // NICs from before port forwards have none (an empty JSON array, which the owned collection reads as empty).
            migrationBuilder.Sql("UPDATE \"VmNics\" SET \"PortForwards\" = '[]' WHERE \"PortForwards\" IS NULL;");

            migrationBuilder.AddColumn<Guid>(
                name: "NetworkId",
                table: "AccessGrants",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "Networks",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false, collation: "NOCASE"),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Bridge = table.Column<string>(type: "TEXT", maxLength: 15, nullable: true),
                    Description = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: true),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Networks", x => x.Id);
                });

            migrationBuilder.UpdateData(
                table: "AccessRoles",
                keyColumn: "Id",
                keyValue: new Guid("00000000-0000-0000-0000-0000000000a1"),
                column: "Privileges",
                value: 1023);

            migrationBuilder.UpdateData(
                table: "AccessRoles",
                keyColumn: "Id",
                keyValue: new Guid("00000000-0000-0000-0000-0000000000a2"),
                columns: new[] { "Description", "Privileges" },
                values: new object[] { "Create, change, run and delete VMs, use images and networks.", 575 });

            migrationBuilder.InsertData(
                table: "AccessRoles",
                columns: new[] { "Id", "BuiltIn", "Description", "Name", "Privileges" },
                values: new object[] { new Guid("00000000-0000-0000-0000-0000000000a6"), true, "Attach NICs to a network: grant it on /networks/{id}.", "NetworkUser", 512 });

            migrationBuilder.InsertData(
                table: "Networks",
                columns: new[] { "Id", "Bridge", "CreatedAt", "Description", "Kind", "Name" },
                values: new object[] { new Guid("00000000-0000-0000-0000-0000000000e1"), null, 639320256000000000L, "User-mode NAT: each NIC gets DHCP, DNS and the host's outbound connections, with no host set-up.", "Nat", "default" });

            migrationBuilder.CreateIndex(
                name: "IX_VmNics_NetworkId",
                table: "VmNics",
                column: "NetworkId");

            migrationBuilder.CreateIndex(
                name: "IX_AccessGrants_NetworkId",
                table: "AccessGrants",
                column: "NetworkId");

            migrationBuilder.AddCheckConstraint(
                name: "CK_AccessGrants_OnePlace",
                table: "AccessGrants",
                sql: "\"VmId\" IS NULL OR \"NetworkId\" IS NULL");

            migrationBuilder.CreateIndex(
                name: "IX_Networks_Name",
                table: "Networks",
                column: "Name",
                unique: true);

            migrationBuilder.AddForeignKey(
                name: "FK_AccessGrants_Networks_NetworkId",
                table: "AccessGrants",
                column: "NetworkId",
                principalTable: "Networks",
                principalColumn: "Id",
                onDelete: ReferentialAction.Cascade);

            migrationBuilder.AddForeignKey(
                name: "FK_VmNics_Networks_NetworkId",
                table: "VmNics",
                column: "NetworkId",
                principalTable: "Networks",
                principalColumn: "Id",
                onDelete: ReferentialAction.Restrict);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_AccessGrants_Networks_NetworkId",
                table: "AccessGrants");

            migrationBuilder.DropForeignKey(
                name: "FK_VmNics_Networks_NetworkId",
                table: "VmNics");

            migrationBuilder.DropTable(
                name: "Networks");

            migrationBuilder.DropIndex(
                name: "IX_VmNics_NetworkId",
                table: "VmNics");

            migrationBuilder.DropIndex(
                name: "IX_AccessGrants_NetworkId",
                table: "AccessGrants");

            migrationBuilder.DropCheckConstraint(
                name: "CK_AccessGrants_OnePlace",
                table: "AccessGrants");

            migrationBuilder.DeleteData(
                table: "AccessRoles",
                keyColumn: "Id",
                keyValue: new Guid("00000000-0000-0000-0000-0000000000a6"));

            migrationBuilder.DropColumn(
                name: "NetworkId",
                table: "VmNics");

            migrationBuilder.DropColumn(
                name: "PortForwards",
                table: "VmNics");

            migrationBuilder.DropColumn(
                name: "NetworkId",
                table: "AccessGrants");

            migrationBuilder.AlterColumn<string>(
                name: "TapName",
                table: "VmNics",
                type: "TEXT",
                maxLength: 15,
                nullable: false,
                defaultValue: "",
                oldClrType: typeof(string),
                oldType: "TEXT",
                oldMaxLength: 15,
                oldNullable: true);

            migrationBuilder.UpdateData(
                table: "AccessRoles",
                keyColumn: "Id",
                keyValue: new Guid("00000000-0000-0000-0000-0000000000a1"),
                column: "Privileges",
                value: 511);

            migrationBuilder.UpdateData(
                table: "AccessRoles",
                keyColumn: "Id",
                keyValue: new Guid("00000000-0000-0000-0000-0000000000a2"),
                columns: new[] { "Description", "Privileges" },
                values: new object[] { "Create, change, run and delete VMs and use images.", 63 });
        }
    }
}
