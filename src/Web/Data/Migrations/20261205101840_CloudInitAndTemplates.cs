using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Platform.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class CloudInitAndTemplates : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "IsTemplate",
                table: "VirtualMachines",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<Guid>(
                name: "TemplateId",
                table: "VirtualMachines",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "VmCloudInits",
                columns: table => new
                {
                    VirtualMachineId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Enabled = table.Column<bool>(type: "INTEGER", nullable: false),
                    Hostname = table.Column<string>(type: "TEXT", maxLength: 253, nullable: true),
                    UserName = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    PasswordHash = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    SshAuthorizedKeys = table.Column<string>(type: "TEXT", maxLength: 65536, nullable: true),
                    Packages = table.Column<string>(type: "TEXT", maxLength: 4096, nullable: true),
                    UserData = table.Column<string>(type: "TEXT", maxLength: 65536, nullable: true),
                    UpdatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_VmCloudInits", x => x.VirtualMachineId);
                    table.ForeignKey(
                        name: "FK_VmCloudInits_VirtualMachines_VirtualMachineId",
                        column: x => x.VirtualMachineId,
                        principalTable: "VirtualMachines",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_VirtualMachines_TemplateId",
                table: "VirtualMachines",
                column: "TemplateId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "VmCloudInits");

            migrationBuilder.DropIndex(
                name: "IX_VirtualMachines_TemplateId",
                table: "VirtualMachines");

            migrationBuilder.DropColumn(
                name: "IsTemplate",
                table: "VirtualMachines");

            migrationBuilder.DropColumn(
                name: "TemplateId",
                table: "VirtualMachines");
        }
    }
}
